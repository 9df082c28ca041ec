/**
 * A headless volunteer (`quorum volunteer`, onnxruntime-node) names its backend `node-cpu`: the
 * coordinator must take its hello and results, and telemetry must have room for the backend pairs
 * it adds, or the map and dashboard would drop it.
 */
import { describe, expect, it } from 'vitest';
import { BackendPairCounter } from '../core/telemetry/backendPairs.ts';
import { hello } from '../core/testing/fixtures.ts';
import { BACKENDS } from './capabilities.ts';
import { PROTOCOL_VERSION } from './messages.ts';
import { parseToCoordinator } from './parse.ts';
import { TELEMETRY_LIMITS, backendPairSchema } from './telemetry.ts';

describe('the node-cpu backend', () => {
  it("a headless volunteer's hello and result parse with backend node-cpu", () => {
    expect(parseToCoordinator(hello('volunteer', 'node-cpu'))).toMatchObject({ ok: true, msg: { caps: { backend: 'node-cpu' } } });
    const result = { v: PROTOCOL_VERSION, t: 'result', leaseId: 'l-1', outputs: [], backend: 'node-cpu', inferMs: 3 };
    expect(parseToCoordinator(result)).toMatchObject({ ok: true, msg: { backend: 'node-cpu' } });
  });

  it('[T-5] agreement between node-cpu and the browser backends is counted, and every pair fits a telemetry frame', () => {
    const pairs = new BackendPairCounter();
    for (const a of BACKENDS) for (const b of BACKENDS) pairs.recordDecision([a, b], []);
    const list = pairs.list();
    expect(list.map((p) => `${p.a}/${p.b}`)).toEqual(['webgpu/webgpu', 'webgpu/wasm', 'webgpu/node-cpu', 'wasm/wasm', 'wasm/node-cpu', 'node-cpu/node-cpu']);
    expect(list.length).toBeLessThanOrEqual(TELEMETRY_LIMITS.maxBackendPairs);
    for (const p of list) expect(backendPairSchema.safeParse(p).success).toBe(true);
  });
});
