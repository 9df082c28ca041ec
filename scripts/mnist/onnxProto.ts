/**
 * Typed access to the `onnx-proto` package (protobufjs static code generated from onnx.proto).
 *
 * Its types are fine under strict, but the runtime is CommonJS that assigns `$root.onnx = ...`,
 * a pattern Node's ESM named-export detection cannot see: under tsx `import { onnx }` is
 * undefined and only `default.onnx` exists, while vitest's interop differs again. Loading it with
 * createRequire gives the same object everywhere. Scripts only (Node).
 */
import { createRequire } from 'node:module';
import type { onnx as OnnxNamespace } from 'onnx-proto';

const require = createRequire(import.meta.url);
const mod = require('onnx-proto') as { onnx?: typeof OnnxNamespace };
if (mod.onnx === undefined) throw new Error('onnx-proto did not export the `onnx` namespace');

export const onnx: typeof OnnxNamespace = mod.onnx;
export type { OnnxNamespace };
