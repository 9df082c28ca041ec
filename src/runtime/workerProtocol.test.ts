import { describe, expect, it } from 'vitest';
import { parseWorkerRequest } from './workerProtocol.ts';

describe('parseWorkerRequest', () => {
  it('accepts each request kind', () => {
    const tensor = { name: 'x', dtype: 'float32', dims: [1, 4], data: new ArrayBuffer(16) };
    const reqs = [
      { id: 1, kind: 'init', prefs: { backend: 'auto', threads: 1 } },
      { id: 2, kind: 'load', hash: 'ab', bytes: new ArrayBuffer(3) },
      { id: 3, kind: 'run', hash: 'ab', inputs: [tensor] },
      { id: 4, kind: 'unload', hash: 'ab' },
      { id: 5, kind: 'dispose' },
    ];
    for (const r of reqs) expect(parseWorkerRequest(r)).toEqual(r);
  });

  it.each([
    [null, null, /not an object/],
    [{ kind: 'dispose' }, null, /no numeric id/],
    [{ id: 7, kind: 'explode' }, 7, /unknown kind/],
    [{ id: 7, kind: 'init', prefs: { backend: 'cuda', threads: 1 } }, 7, /prefs.backend/],
    [{ id: 7, kind: 'init', prefs: { backend: 'wasm', threads: 0 } }, 7, /prefs.threads/],
    [{ id: 7, kind: 'load', hash: 'ab', bytes: new Uint8Array(3) }, 7, /ArrayBuffer/],
    [{ id: 7, kind: 'run', hash: 'ab', inputs: [{ name: 'x', dtype: 'float64', dims: [1], data: new ArrayBuffer(8) }] }, 7, /WireTensors/],
    [{ id: 7, kind: 'run', hash: 'ab', inputs: [{ name: 'x', dtype: 'float32', dims: [1.5], data: new ArrayBuffer(4) }] }, 7, /WireTensors/],
  ])('reports malformed %j', (data, id, message) => {
    const parsed = parseWorkerRequest(data);
    expect(parsed).toMatchObject({ id });
    expect('malformed' in parsed && parsed.malformed).toMatch(message);
  });
});
