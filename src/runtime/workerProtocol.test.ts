import { describe, expect, it } from 'vitest';
import { parseInferenceResult, parseWorkerRequest } from './workerProtocol.ts';

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

  it('[W-22] accepts a run-pipeline request with files as ArrayBuffers and a file pipeline; refuses others with what is wrong', () => {
    const pipeline = {
      v: 1,
      stages: [
        { op: 'decode-image', maxPixels: 100 },
        { op: 'image-tensor', input: 'x', width: 4, height: 4, layout: 'CHW', channels: 'RGB', normalisation: 'unit' },
        { op: 'run-model', model: 'a'.repeat(64) },
      ],
    };
    const files = [{ name: 'a.png', bytes: new ArrayBuffer(3) }];
    const ok = { id: 6, kind: 'run-pipeline', hash: 'ab', pipeline, files };
    expect(parseWorkerRequest(ok)).toEqual(ok);
    const bad = (over: Record<string, unknown>) => parseWorkerRequest({ ...ok, ...over });
    expect(bad({ files: [{ name: 'a.png', bytes: new Uint8Array(3) }] })).toMatchObject({ id: 6, malformed: expect.stringMatching(/files must be/) });
    expect(bad({ pipeline: { v: 1, stages: pipeline.stages.slice(0, 2) } })).toMatchObject({ malformed: expect.stringMatching(/pipeline: /) });
    expect(bad({ pipeline: { ...pipeline, stages: [...pipeline.stages, pipeline.stages[2]] } })).toMatchObject({
      malformed: expect.stringMatching(/a job of files runs one of/),
    });
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

describe('parseInferenceResult [W-23]', () => {
  const ocr = {
    kind: 'ocr',
    lines: [
      {
        box: [
          [0, 0],
          [10, 0],
          [10, 5],
          [0, 5],
        ],
        text: 'Total 12.80',
        confidence: 0.98,
      },
    ],
  };
  const segments = { kind: 'segments', segments: [{ start: 0.75, end: 1.9 }] };

  it('[W-23] carries every file pipeline answer across from the worker, structured-cloned as the page receives it', () => {
    for (const answers of [[ocr], [segments, { kind: 'segments', segments: [] }], [{ kind: 'labels', labels: [{ index: 3, score: 2.5 }] }]]) {
      const sent = { outputs: [], answers, inferMs: 12.5, backend: 'wasm' };
      expect(parseInferenceResult(structuredClone(sent))).toEqual(sent);
    }
    const tensors = { outputs: [{ name: 'y', dtype: 'float32', dims: [1, 2], data: new ArrayBuffer(8) }], inferMs: 1, backend: 'webgpu' };
    expect(parseInferenceResult(structuredClone(tensors))).toEqual(tensors);
  });

  it.each([
    [{ outputs: [], answers: [{ ...ocr, lines: [{ ...ocr.lines[0], confidence: 1.5 }] }], inferMs: 1, backend: 'wasm' }, /answer 1: /],
    [
      { outputs: [], answers: [{ kind: 'segments', segments: [{ start: 2, end: 1 }] }], inferMs: 1, backend: 'wasm' },
      /answer 1: a segment ends before it starts/,
    ],
    [{ outputs: [], answers: [{ kind: 'poem' }], inferMs: 1, backend: 'wasm' }, /answer 1: /],
    [{ outputs: [], answers: 'many', inferMs: 1, backend: 'wasm' }, /answers must be a list/],
    [{ outputs: [{ name: 'y' }], inferMs: 1, backend: 'wasm' }, /outputs must be WireTensors/],
    [{ outputs: [], inferMs: -1, backend: 'wasm' }, /inferMs/],
    [{ outputs: [], inferMs: 1, backend: 'cuda' }, /backend/],
    [null, /not an object/],
  ])('[W-23] refuses a malformed result %j, saying what is wrong', (value, message) => {
    const parsed = parseInferenceResult(value);
    expect('malformed' in parsed && parsed.malformed).toMatch(message);
  });
});
