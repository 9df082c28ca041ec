import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import fs from 'node:fs';
import { loadConfig } from './server/config.ts';
import { ISOLATION_HEADERS } from './server/middleware.ts';
import { modelAssetsPlugin } from './vite-plugins/modelAssets.ts';
import { ortAssetsPlugin } from './vite-plugins/ortAssets.ts';
import { signalingPlugin } from './vite-plugins/signaling.ts';

// `vite` (dev) and `vite preview` serve the app, /peerjs signaling, /config.json, /ort/ and the
// built-in workloads' models (/models/ocr/, /models/vad/) on one
// port (PORT, default 8080), on all interfaces. `vite build --mode test` builds the e2e build (the
// app may expose a test hook when import.meta.env.MODE === 'test') into dist-test/.
export default defineConfig(({ mode }) => {
  // Same env as the production server: PORT, QUORUM_ICE_SERVERS, QUORUM_TLS_CERT/KEY (HOST is
  // ignored: dev and preview always listen on all interfaces).
  const { port, tls } = loadConfig();
  const https = tls ? { cert: fs.readFileSync(tls.certFile), key: fs.readFileSync(tls.keyFile) } : undefined;
  const headers = { ...ISOLATION_HEADERS };
  return {
    plugins: [react(), signalingPlugin(), ortAssetsPlugin(), modelAssetsPlugin()],
    server: { host: true, port, strictPort: true, headers, ...(https ? { https } : {}) },
    preview: { host: true, port, strictPort: true, headers, ...(https ? { https } : {}) },
    worker: { format: 'es' },
    // onnxruntime-web's own export condition: its JS stops referencing the 28 MB wasm through
    // `new URL(…, import.meta.url)`, so the build no longer emits an unused copy; the app loads
    // the runtime files from /ort/ (ortEngine sets wasmPaths).
    resolve: { conditions: ['onnxruntime-web-use-extern-wasm', 'module', 'browser', 'development|production'] },
    build: {
      target: 'es2022',
      outDir: mode === 'test' ? 'dist-test' : 'dist',
      sourcemap: mode === 'test',
      // onnxruntime-web's wasm is big by nature; don't warn about it.
      chunkSizeWarningLimit: 2048,
    },
    // Pre-bundling would move onnxruntime-web away from its files; the app loads them from /ort/.
    optimizeDeps: { exclude: ['onnxruntime-web'] },
  };
});
