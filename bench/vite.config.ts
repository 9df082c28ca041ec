import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { ortAssetsPlugin } from '../vite-plugins/ortAssets.ts';

// The benchmark page (bench/page/), built by `npm run bench` into .tmp/bench/dist/ next to the
// app's own public/ files (the MNIST model and digits) and onnxruntime-web's files at /ort/.
const root = path.dirname(fileURLToPath(import.meta.url));
export const BENCH_DIST = path.resolve(root, '..', '.tmp', 'bench', 'dist');

export default defineConfig({
  root: path.join(root, 'page'),
  publicDir: path.resolve(root, '..', 'public'),
  plugins: [ortAssetsPlugin()],
  worker: { format: 'es' },
  logLevel: 'warn',
  build: {
    target: 'es2022',
    outDir: BENCH_DIST,
    emptyOutDir: true,
    chunkSizeWarningLimit: 4096,
  },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
});
