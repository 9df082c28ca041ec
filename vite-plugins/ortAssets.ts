/**
 * Vite plugin: onnxruntime-web's runtime files (.mjs glue + .wasm) at /ort/ on the app's origin,
 * for `ort.env.wasm.wasmPaths = location.origin + '/ort/'`.
 *   dev:   served straight from node_modules/onnxruntime-web/dist/
 *   build: copied into <outDir>/ort/ (also what `vite preview` and server/ then serve)
 */
import { serveFile } from './serveFile.ts';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Plugin } from 'vite';
import { pathnameOf } from '../server/middleware.ts';

export const ORT_URL_PATH = '/ort/';

/**
 * jsep: what `import 'onnxruntime-web'` loads (WASM + WebGPU via JSEP);
 * plain: what `onnxruntime-web/wasm` loads; asyncify: what `onnxruntime-web/webgpu` loads.
 */
export const DEFAULT_ORT_FILES: readonly string[] = [
  'ort-wasm-simd-threaded.jsep.mjs',
  'ort-wasm-simd-threaded.jsep.wasm',
  'ort-wasm-simd-threaded.mjs',
  'ort-wasm-simd-threaded.wasm',
  'ort-wasm-simd-threaded.asyncify.mjs',
  'ort-wasm-simd-threaded.asyncify.wasm',
];

export interface OrtAssetsOptions {
  files?: readonly string[];
  /** Defaults to onnxruntime-web's dist/ folder, wherever it is installed. */
  sourceDir?: string;
}

/** onnxruntime-web's dist/ folder, resolved from `fromDir` (the project root) or else from here. */
export function findOrtDist(fromDir: string): string {
  let entry = '';
  for (const base of [path.join(fromDir, 'package.json'), import.meta.url]) {
    try {
      // Any entry point resolves into dist/ (the package's export map hides package.json).
      entry = createRequire(base).resolve('onnxruntime-web');
      break;
    } catch {
      // try the next base
    }
  }
  if (!entry) throw new Error(`[quorum:ort-assets] cannot resolve onnxruntime-web from ${fromDir}`);
  let dir = path.dirname(entry);
  while (path.basename(dir) !== 'dist' && path.dirname(dir) !== dir) dir = path.dirname(dir);
  if (path.basename(dir) !== 'dist') throw new Error(`[quorum:ort-assets] cannot find onnxruntime-web/dist from ${entry}`);
  return dir;
}

function contentType(file: string): string {
  return file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript; charset=utf-8';
}

export function ortAssetsPlugin(options: OrtAssetsOptions = {}): Plugin {
  const files = new Set(options.files ?? DEFAULT_ORT_FILES);
  let sourceDir = options.sourceDir ?? '';

  return {
    name: 'quorum:ort-assets',
    configResolved(config) {
      if (!sourceDir) sourceDir = findOrtDist(config.root);
      for (const f of files) {
        if (!fs.existsSync(path.join(sourceDir, f))) throw new Error(`[quorum:ort-assets] ${f} not found in ${sourceDir}`);
      }
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        if (req.method !== 'GET' && req.method !== 'HEAD') return next();
        const pathname = pathnameOf(req.url);
        if (!pathname.startsWith(ORT_URL_PATH)) return next();
        const name = decodeURIComponent(pathname.slice(ORT_URL_PATH.length));
        if (!files.has(name)) return next();
        serveFile(req, res, path.join(sourceDir, name), contentType(name), next);
      });
    },
    // Plain copies after the bundle is written: ~70 MB of wasm gains nothing from going through
    // the bundler's asset pipeline.
    async writeBundle(outputOptions) {
      if (this.environment.name !== 'client' || !outputOptions.dir) return;
      const outDir = path.join(outputOptions.dir, ORT_URL_PATH);
      await fs.promises.mkdir(outDir, { recursive: true });
      await Promise.all([...files].map((f) => fs.promises.copyFile(path.join(sourceDir, f), path.join(outDir, f))));
    },
  };
}
