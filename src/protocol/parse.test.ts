import { describe, it, expect } from 'vitest';
import { caps, countingBytes, f32, policy } from '../core/testing/fixtures.ts';
import { LIMITS } from './limits.ts';
import { PROTOCOL_VERSION, REFUSED_ID_TAKEN, type FromCoordinatorType, type ToCoordinatorType } from './messages.ts';
import { parseFromCoordinator, parseToCoordinator, type Parsed, type ProtocolError } from './parse.ts';

const V = PROTOCOL_VERSION;
const HASH = 'c'.repeat(64);
type Raw = Record<string, unknown>;

const tensor = (): Raw => ({ name: 'x', dtype: 'float32', dims: [2, 3], data: new Float32Array(6).buffer });

/** One valid frame of every type; `Record` over the type union makes a missing type a compile error. */
const VALID_TO: Record<ToCoordinatorType, Raw> = {
  challenge: { v: V, t: 'challenge', nonce: 'A'.repeat(22) },
  hello: { v: V, t: 'hello', role: 'volunteer', caps: caps('webgpu'), label: 'tab 1' },
  'lease-request': { v: V, t: 'lease-request' },
  'model-request': { v: V, t: 'model-request', hash: HASH, offset: 0 },
  result: { v: V, t: 'result', leaseId: 'l1abc', outputs: [tensor()], backend: 'wasm', inferMs: 12.5 },
  'lease-abandon': { v: V, t: 'lease-abandon', leaseId: 'l1abc', reason: 'model failed its sha256 check' },
  'lease-progress': { v: V, t: 'lease-progress', leaseId: 'l1abc', elapsedMs: 40_000 },
  'volunteer-state': { v: V, t: 'volunteer-state', paused: true, reason: 'the tab is hidden' },
  caps: { v: V, t: 'caps', caps: caps('wasm') },
  'submit-job': {
    v: V,
    t: 'submit-job',
    ref: 'r1',
    spec: { name: 'mnist', model: countingBytes(64), inputs: [tensor()], shardSize: 1, policy: policy(2, 2, 4), requesterKey: '' },
  },
  'results-request': { v: V, t: 'results-request', jobId: 'jabc' },
  ping: { v: V, t: 'ping' },
};

const VALID_FROM: Record<FromCoordinatorType, Raw> = {
  proof: { v: V, t: 'proof', key: 'k'.repeat(122), sig: 's'.repeat(86) },
  welcome: { v: V, t: 'welcome', networkId: 'net-1', you: 'peer_1' },
  refused: { v: V, t: 'refused', reason: 'say hello first', expectedVersion: V },
  lease: {
    v: V,
    t: 'lease',
    leaseId: 'l1',
    jobId: 'jabc',
    shardId: 'jabc/3',
    modelHash: HASH,
    modelBytes: 64,
    inputs: [tensor()],
    deadlineInMs: 60_000,
  },
  'no-work': { v: V, t: 'no-work', retryInMs: 1000 },
  'work-available': { v: V, t: 'work-available' },
  'model-chunk': { v: V, t: 'model-chunk', hash: HASH, offset: 0, total: 64, bytes: countingBytes(64) },
  'model-unavailable': { v: V, t: 'model-unavailable', hash: HASH, reason: 'no such model' },
  'result-ack': { v: V, t: 'result-ack', leaseId: 'l1', outcome: 'duplicate', reason: 'shard is already verified' },
  'volunteer-status': {
    v: V,
    t: 'volunteer-status',
    shardsAccepted: 3,
    resultsReturned: 4,
    resultsRejected: 0,
    paused: false,
    trusted: false,
    streak: 3,
    trustLevel: 0.3,
    quarantined: false,
  },
  'job-accepted': { v: V, t: 'job-accepted', ref: 'r1', jobId: 'jabc', shards: 3 },
  'job-rejected': { v: V, t: 'job-rejected', ref: 'r1', reason: 'wrong requester key' },
  'job-status': {
    v: V,
    t: 'job-status',
    jobs: [
      {
        jobId: 'jabc',
        name: 'mnist',
        createdAtMs: 5,
        items: 10,
        shards: 3,
        verified: 1,
        inFlight: 1,
        pending: 1,
        unverifiable: 0,
        disagreements: 0,
        done: false,
      },
    ],
  },
  'job-results': {
    v: V,
    t: 'job-results',
    jobId: 'jabc',
    shards: [{ index: 0, start: 0, count: 2, outputs: [tensor()], volunteers: ['a', 'b'], backends: ['wasm', 'webgpu'] }],
  },
  network: {
    v: V,
    t: 'network',
    peers: [{ peerId: 'a', role: 'volunteer', label: 'x', backend: 'wasm', adapter: null, shardsDone: 1, activeLeases: 0, connectedAtMs: 0 }],
  },
  telemetry: {
    v: V,
    t: 'telemetry',
    atMs: 1000,
    seq: 2,
    intervalMs: 500,
    peers: [
      {
        peerId: 'a',
        role: 'volunteer',
        label: 'x',
        backend: 'webgpu',
        adapter: 'google swiftshader',
        status: 'working',
        quarantined: false,
        shardsDone: 3,
        resultsReturned: 4,
        rejected: 1,
        agreementRate: 0.75,
        reputation: null,
        throughputPerS: 1.5,
        activeLeases: 1,
        connectedAtMs: 0,
        flow: { leases: 1, results: 1, verified: 1, disagreements: 0 },
      },
    ],
    rest: { peers: 0, volunteers: 0, working: 0, quarantined: 0, shardsDone: 0, throughputPerS: 0 },
    totals: {
      peers: 1,
      volunteers: 1,
      working: 1,
      idle: 0,
      paused: 0,
      quarantined: 0,
      activeLeases: 1,
      throughputPerS: 1.5,
      shardsVerified: 3,
      disagreements: 1,
      flow: { leases: 1, results: 1, verified: 1, disagreements: 0 },
    },
    backendPairs: [{ a: 'webgpu', b: 'wasm', agree: 3, disagree: 1 }],
    jobs: [],
  },
  pong: { v: V, t: 'pong' },
};

const directions = [
  { name: 'to the coordinator', parse: parseToCoordinator as (raw: unknown) => Parsed<unknown>, valid: VALID_TO },
  { name: 'from the coordinator', parse: parseFromCoordinator as (raw: unknown) => Parsed<unknown>, valid: VALID_FROM },
] as const;

function rejected(p: Parsed<unknown>): ProtocolError {
  if (p.ok) throw new Error(`expected a rejection, got a ${JSON.stringify((p.msg as Raw).t)} frame`);
  return p.error;
}

/** A value of another JSON type than `v`. */
function wrongType(v: unknown): unknown {
  if (typeof v === 'string') return 42;
  if (typeof v === 'number') return 'forty-two';
  if (typeof v === 'boolean') return 'yes';
  return 'not this';
}

describe('parse: frames from unknown [M-1]', () => {
  for (const d of directions) {
    describe(d.name, () => {
      for (const [t, frame] of Object.entries(d.valid)) {
        it(`[M-1] a valid "${t}" frame parses to a typed message`, () => {
          const p = d.parse(frame);
          expect(p.ok, p.ok ? '' : p.error.reason).toBe(true);
          if (p.ok) expect((p.msg as Raw).t).toBe(t);
        });

        it(`[M-1] a "${t}" frame with any field missing is rejected with a reason`, () => {
          for (const key of Object.keys(frame)) {
            const broken: Raw = { ...frame };
            delete broken[key];
            const e = rejected(d.parse(broken));
            expect(e.kind).not.toBe('not-an-object');
            expect(e.reason.length).toBeGreaterThan(0);
          }
        });

        it(`[M-1] a "${t}" frame with any field of the wrong type is rejected`, () => {
          for (const key of Object.keys(frame)) {
            if (t === 'refused' && key === 'v') continue; // refusals take any version, but still a number
            const broken: Raw = { ...frame, [key]: wrongType(frame[key]) };
            const e = rejected(d.parse(broken));
            expect(e.reason).not.toBe('');
          }
        });
      }

      it('[M-1] non-objects are rejected as not-an-object, never thrown', () => {
        const junk: unknown[] = [
          null,
          undefined,
          0,
          42,
          NaN,
          'hello',
          '',
          true,
          [],
          [d.valid[Object.keys(d.valid)[0] as never]],
          new ArrayBuffer(8),
          new Uint8Array(8),
          () => 1,
          Symbol('x'),
          10n,
        ];
        for (const raw of junk) {
          const e = rejected(d.parse(raw));
          expect(e.kind).toBe('not-an-object');
          expect(e.reason).toMatch(/not an object/);
        }
      });

      it('[M-1] an unknown or missing frame type is rejected', () => {
        expect(rejected(d.parse({ v: V, t: 'make-coffee' })).reason).toMatch(/"make-coffee"/);
        expect(rejected(d.parse({ v: V })).kind).toBe('malformed');
        expect(rejected(d.parse({ v: V, t: 7 })).reason).toMatch(/untyped/);
        expect(rejected(d.parse({})).reason).toMatch(/no protocol version/);
      });

      it('[M-1] huge strings are rejected with a short reason', () => {
        const huge = 'x'.repeat(1_000_000);
        const frames: Raw[] = [
          { v: V, t: huge },
          ...Object.values(d.valid).flatMap((f) =>
            Object.keys(f)
              .filter((k) => typeof f[k] === 'string' && k !== 't')
              .map((k) => ({ ...f, [k]: huge })),
          ),
        ];
        expect(frames.length).toBeGreaterThan(3);
        for (const f of frames) {
          const e = rejected(d.parse(f));
          expect(e.reason.length).toBeLessThan(1_000);
        }
      });

      it('[M-1] a frame whose fields throw when read is rejected, not thrown', () => {
        const evil = { v: V };
        Object.defineProperty(evil, 't', {
          enumerable: true,
          get: () => {
            throw new Error('boom');
          },
        });
        expect(rejected(d.parse(evil)).kind).toBe('malformed');
        const proxy = new Proxy(
          {},
          {
            get: () => {
              throw new Error('trap');
            },
            has: () => {
              throw new Error('trap');
            },
          },
        );
        expect(() => d.parse(proxy)).not.toThrow();
        expect(d.parse(proxy).ok).toBe(false);
      });

      it('[M-2] another protocol version is rejected as kind "version" with the peer\'s version', () => {
        for (const frame of Object.values(d.valid)) {
          if (frame.t === 'refused') continue;
          for (const v of [0, V + 1, 99]) {
            const e = rejected(d.parse({ ...frame, v }));
            expect(e.kind).toBe('version');
            expect(e.peerVersion).toBe(v);
            expect(e.reason).toMatch(new RegExp(`v${v}`));
          }
        }
      });

      it('[M-2] a frame without a numeric version is malformed, not another version', () => {
        const e = rejected(d.parse({ ...VALID_TO['lease-request'], v: '1' }));
        expect(e.kind).toBe('malformed');
        expect(e.peerVersion).toBeNull();
      });
    });
  }

  it('[M-2] a "refused" frame of another version still parses, so the peer learns why', () => {
    const p = parseFromCoordinator({ v: V + 1, t: 'refused', reason: 'speak v2', expectedVersion: V + 1 });
    expect(p.ok).toBe(true);
    if (p.ok && p.msg.t === 'refused') expect(p.msg.expectedVersion).toBe(V + 1);
    expect(parseFromCoordinator({ v: 1.5, t: 'refused', reason: 'x', expectedVersion: 2 }).ok).toBe(false);
  });

  it('[I-1] a "refused" frame may carry a bounded machine-readable code, also one this build does not know', () => {
    const taken = parseFromCoordinator({ ...VALID_FROM.refused, code: REFUSED_ID_TAKEN });
    expect(taken.ok && taken.msg.t === 'refused' && taken.msg.code).toBe(REFUSED_ID_TAKEN);
    expect(parseFromCoordinator({ ...VALID_FROM.refused, v: V + 1, code: 'some-future-code' }).ok).toBe(true);
    expect(parseFromCoordinator({ ...VALID_FROM.refused, code: '' }).ok).toBe(false);
    expect(parseFromCoordinator({ ...VALID_FROM.refused, code: 'x'.repeat(65) }).ok).toBe(false);
    expect(parseFromCoordinator({ ...VALID_FROM.refused, code: 7 }).ok).toBe(false);
  });

  it('[M-1] unknown extra keys are stripped, not passed on', () => {
    const p = parseFromCoordinator({ ...VALID_FROM.welcome, admin: true });
    expect(p.ok).toBe(true);
    if (p.ok) expect(Object.keys(p.msg)).not.toContain('admin');
  });

  it('[M-1] a lease that still carries the retired outputNames field parses, the field stripped', () => {
    const p = parseFromCoordinator({ ...VALID_FROM.lease, outputNames: ['y'] });
    expect(p.ok).toBe(true);
    if (p.ok) expect(Object.keys(p.msg)).not.toContain('outputNames');
  });
});

describe('parse: tensors [M-3]', () => {
  const result = (outputs: unknown): Raw => ({ ...VALID_TO.result, outputs });

  it('[M-3] a byte length that does not match dims and dtype is rejected with both numbers', () => {
    const e = rejected(parseToCoordinator(result([{ name: 'y', dtype: 'float32', dims: [2, 3], data: new ArrayBuffer(20) }])));
    expect(e.reason).toMatch(/20 bytes/);
    expect(e.reason).toMatch(/need 24/);
    expect(e.reason).toMatch(/outputs\.0/);
    // int64 is 8 bytes an element
    expect(parseToCoordinator(result([{ name: 'y', dtype: 'int64', dims: [3], data: new ArrayBuffer(12) }])).ok).toBe(false);
    expect(parseToCoordinator(result([{ name: 'y', dtype: 'int64', dims: [3], data: new ArrayBuffer(24) }])).ok).toBe(true);
  });

  it('[M-3] oversized tensors are rejected before their bytes are looked at', () => {
    const huge = rejected(parseToCoordinator(result([{ name: 'y', dtype: 'float32', dims: [2 ** 31 - 1, 2 ** 31 - 1], data: new ArrayBuffer(0) }])));
    expect(huge.reason).toMatch(/larger than/);
    const justOver = LIMITS.maxTensorBytes / 4 + 1;
    expect(parseToCoordinator(result([{ name: 'y', dtype: 'float32', dims: [justOver], data: new ArrayBuffer(0) }])).ok).toBe(false);
  });

  it('[M-3] tensors need binary data, a known dtype, whole non-negative dims and a bounded rank and count', () => {
    const bad: unknown[] = [
      [{ name: 'y', dtype: 'float32', dims: [2], data: [1, 2] }],
      [{ name: 'y', dtype: 'float32', dims: [2], data: '12345678' }],
      [{ name: 'y', dtype: 'float64', dims: [1], data: new ArrayBuffer(8) }],
      [{ name: 'y', dtype: 'float32', dims: [-1], data: new ArrayBuffer(0) }],
      [{ name: 'y', dtype: 'float32', dims: [1.5], data: new ArrayBuffer(4) }],
      [{ name: '', dtype: 'float32', dims: [1], data: new ArrayBuffer(4) }],
      [{ name: 'y', dtype: 'float32', dims: Array(LIMITS.maxTensorRank + 1).fill(1), data: new ArrayBuffer(4) }],
      Array.from({ length: LIMITS.maxTensorsPerMessage + 1 }, (_, i) => ({ name: `y${i}`, dtype: 'uint8', dims: [1], data: new ArrayBuffer(1) })),
    ];
    for (const outputs of bad) rejected(parseToCoordinator(result(outputs)));
    // the limits themselves are fine
    expect(parseToCoordinator(result([{ name: 'y', dtype: 'float32', dims: Array(LIMITS.maxTensorRank).fill(1), data: new ArrayBuffer(4) }])).ok).toBe(true);
    expect(parseToCoordinator(result([{ name: 's', dtype: 'float32', dims: [], data: new ArrayBuffer(4) }])).ok).toBe(true);
  });

  it('[M-3] typed-array views are normalised to an ArrayBuffer holding exactly the viewed bytes', () => {
    const backing = new Float32Array([99, 1, 2, 3, 4, 5, 6, 99]);
    const view = backing.subarray(1, 7); // byteOffset 4
    const p = parseToCoordinator(result([{ name: 'y', dtype: 'float32', dims: [2, 3], data: view }]));
    expect(p.ok).toBe(true);
    if (!p.ok || p.msg.t !== 'result') return;
    const data = p.msg.outputs[0]!.data;
    expect(data).toBeInstanceOf(ArrayBuffer);
    expect(data.byteLength).toBe(24);
    expect([...new Float32Array(data)]).toEqual([1, 2, 3, 4, 5, 6]);
    backing[1] = -1; // a copy, not an alias of the sender's buffer
    expect(new Float32Array(data)[0]).toBe(1);
  });

  it('[M-3] model bytes and model chunks sent as views are normalised too', () => {
    const bytes = new Uint8Array([7, 8, 9, 10]);
    const dv = new DataView(bytes.buffer, 1, 2);
    const chunk = parseFromCoordinator({ ...VALID_FROM['model-chunk'], total: 2, bytes: dv });
    expect(chunk.ok).toBe(true);
    if (chunk.ok && chunk.msg.t === 'model-chunk') {
      expect(chunk.msg.bytes).toBeInstanceOf(ArrayBuffer);
      expect([...new Uint8Array(chunk.msg.bytes)]).toEqual([8, 9]);
    }
    const submit = VALID_TO['submit-job'] as { spec: Raw };
    const job = parseToCoordinator({ ...submit, spec: { ...submit.spec, model: bytes.subarray(2) } });
    expect(job.ok).toBe(true);
    if (job.ok && job.msg.t === 'submit-job') expect([...new Uint8Array(job.msg.spec.model)]).toEqual([9, 10]);
  });

  it('[M-3] inputs of a job are checked like any tensor', () => {
    const submit = VALID_TO['submit-job'] as { spec: Raw };
    const bad = { ...submit, spec: { ...submit.spec, inputs: [f32('x', [2, 3], [1, 2, 3, 4, 5])] } };
    expect(rejected(parseToCoordinator(bad)).reason).toMatch(/spec\.inputs\.0/);
    // [J-7] No tensors and no files: nothing to compute.
    expect(parseToCoordinator({ ...submit, spec: { ...submit.spec, inputs: [] } }).ok).toBe(false);
  });

  it('[J-1] a malformed submission keeps its ref (when it is a valid id), so it can be refused by it', () => {
    const submit = VALID_TO['submit-job'] as { spec: Raw; ref: string };
    const bad = { ...submit, ref: 'r-7', spec: { ...submit.spec, inputs: [f32('x', [2, 3], [1, 2, 3, 4, 5])] } };
    expect(rejected(parseToCoordinator(bad)).submissionRef).toBe('r-7');
    expect(rejected(parseToCoordinator({ ...bad, ref: 'not a safe id!' })).submissionRef).toBeUndefined();
    expect(rejected(parseToCoordinator({ v: PROTOCOL_VERSION, t: 'result', ref: 'r-7' })).submissionRef).toBeUndefined();
  });
});

describe('parse: jobs of files [J-7]', () => {
  const submit = VALID_TO['submit-job'] as { spec: Raw };
  const pipeline = (model = HASH): Raw => ({
    v: 1,
    stages: [
      { op: 'decode-image', maxPixels: 1_000_000 },
      { op: 'image-tensor', input: 'x', width: 192, height: 48, layout: 'CHW', channels: 'BGR', normalisation: 'symmetric' },
      { op: 'run-model', model },
    ],
  });
  const file = (name: string, n = 5): Raw => ({ name, bytes: new Uint8Array(n).fill(7) });
  const withFiles = (over: Raw): Raw => ({
    ...submit,
    spec: { ...submit.spec, inputs: [], pipeline: pipeline(), files: [file('a.png'), file('b.png', 3)], ...over },
  });
  const reason = (over: Raw): string => rejected(parseToCoordinator(withFiles(over))).reason;

  it('[J-7] a submission may carry files and their pipeline instead of tensor inputs; the bytes arrive as ArrayBuffers', () => {
    const r = parseToCoordinator(withFiles({}));
    expect(r.ok).toBe(true);
    if (!r.ok || r.msg.t !== 'submit-job') return;
    expect(r.msg.spec.files?.map((f) => [f.name, f.bytes.byteLength])).toEqual([
      ['a.png', 5],
      ['b.png', 3],
    ]);
    expect(r.msg.spec.files?.[0]?.bytes).toBeInstanceOf(ArrayBuffer);
    expect(r.msg.spec.pipeline?.stages.map((st) => st.op)).toEqual(['decode-image', 'image-tensor', 'run-model']);
  });

  it('[J-7] exactly one of tensor inputs and files: both, neither, or files without a pipeline are refused', () => {
    expect(reason({ inputs: [tensor()] })).toMatch(/either as tensor inputs or as files, not both/);
    expect(reason({ files: undefined, pipeline: undefined })).toMatch(/no inputs: give tensor inputs, or files with a pipeline/);
    expect(reason({ pipeline: undefined })).toMatch(/files and their pipeline come together/);
    expect(reason({ files: undefined })).toMatch(/files and their pipeline come together/);
  });

  it('[J-7] files are bounded: at least one, none empty or nameless, names bounded', () => {
    expect(reason({ files: [] })).toMatch(/spec\.files/);
    expect(reason({ files: [file('empty.png', 0)] })).toMatch(/a file must have 1 to/);
    expect(reason({ files: [file('')] })).toMatch(/spec\.files\.0\.name/);
    expect(reason({ files: [file('x'.repeat(LIMITS.maxNameLength + 1))] })).toMatch(/spec\.files\.0\.name/);
    expect(reason({ files: [{ name: 'a.png', bytes: 'iVBORw0KGgo=' }] })).toMatch(/binary data/);
  });

  it('[J-7] a job of files runs one of the shapes volunteers know; other or unknown stages are refused', () => {
    const stages = (pipeline() as { stages: Raw[] }).stages;
    expect(parseToCoordinator(withFiles({ pipeline: { v: 1, stages: [...stages, { op: 'top-k', output: 'y', k: 5 }] } })).ok).toBe(true);
    expect(reason({ pipeline: { v: 1, stages: [stages[0], stages[1], stages[2], stages[2]] } })).toMatch(
      /runs one of .*"decode-image → ocr".*, not "decode-image → image-tensor → run-model → run-model"/,
    );
    expect(reason({ pipeline: { v: 1, stages: [stages[0], { op: 'sharpen' }, stages[2]] } })).toMatch(/spec\.pipeline/);
    expect(reason({ pipeline: { v: 2, stages } })).toMatch(/spec\.pipeline/);
  });

  it('[V-12] an answer comparator must match what the pipeline answers, and applies only to answers', () => {
    const stages = (pipeline() as { stages: Raw[] }).stages;
    const topK = { v: 1, stages: [...stages, { op: 'top-k', output: 'y', k: 5 }] };
    const policyWith = (answerComparator: unknown) => ({ ...policy(2, 2, 3), answerComparator });
    expect(parseToCoordinator(withFiles({ pipeline: topK, policy: policyWith({ kind: 'labels' }) })).ok).toBe(true);
    expect(reason({ pipeline: topK, policy: policyWith({ kind: 'ocr', minIou: 0.5, maxCer: 0 }) })).toMatch(
      /answers with labels, so it needs the "labels" comparator/,
    );
    expect(reason({ policy: policyWith({ kind: 'labels' }) })).toMatch(/only to a pipeline that ends in answers/);
  });

  it("[J-7] a lease may carry the shard's files and the pipeline; they are parsed like the submission's", () => {
    const lease = { ...VALID_FROM.lease, inputs: [], files: [file('a.png')], pipeline: pipeline() };
    const r = parseFromCoordinator(lease);
    expect(r.ok).toBe(true);
    if (r.ok && r.msg.t === 'lease') expect(r.msg.files?.[0]?.name).toBe('a.png');
    expect(parseFromCoordinator({ ...lease, files: [file('a.png', 0)] }).ok).toBe(false);
    expect(parseFromCoordinator({ ...lease, pipeline: { v: 1, stages: [] } }).ok).toBe(false);
    // Unknown to an older build's parser: a lease without them is still the tensor lease it was.
    const plain = parseFromCoordinator(VALID_FROM.lease);
    expect(plain.ok && plain.msg.t === 'lease' && plain.msg.files === undefined).toBe(true);
  });

  it('[J-6] [J-7] a job of files names one item per file', () => {
    expect(parseToCoordinator(withFiles({ itemNames: ['a.png', 'b.png'] })).ok).toBe(true);
    expect(reason({ itemNames: ['a.png'] })).toMatch(/1 item names for 2 items/);
  });
});

describe('parse: item names [J-6]', () => {
  const submit = VALID_TO['submit-job'] as { spec: Raw };
  const withNames = (itemNames: unknown): Raw => ({ ...submit, spec: { ...submit.spec, itemNames } });

  it('[J-6] a job may name its items, one bounded name each; the names arrive as sent', () => {
    const ok = parseToCoordinator(withNames(['a.png', '=HYPERLINK("x")']));
    expect(ok.ok).toBe(true);
    if (ok.ok && ok.msg.t === 'submit-job') expect(ok.msg.spec.itemNames).toEqual(['a.png', '=HYPERLINK("x")']);
    // Absent is fine: jobs without names (and older requesters) still submit.
    expect(parseToCoordinator(submit).ok).toBe(true);
  });

  it('[J-6] item names of the wrong count, too long, empty or not strings are refused, saying why', () => {
    // The tensor has 2 items.
    expect(rejected(parseToCoordinator(withNames(['only-one.png']))).reason).toMatch(/spec\.itemNames.*1 item names for 2 items: give one name per item/);
    expect(rejected(parseToCoordinator(withNames(['a', 'b', 'c']))).reason).toMatch(/3 item names for 2 items/);
    expect(rejected(parseToCoordinator(withNames(['a', 'x'.repeat(LIMITS.maxNameLength + 1)]))).reason).toMatch(/spec\.itemNames\.1/);
    expect(parseToCoordinator(withNames(['a', 'x'.repeat(LIMITS.maxNameLength)])).ok).toBe(true);
    expect(parseToCoordinator(withNames(['a', ''])).ok).toBe(false);
    expect(parseToCoordinator(withNames(['a', 7])).ok).toBe(false);
    expect(parseToCoordinator(withNames('a,b')).ok).toBe(false);
  });

  it('[J-6] job-results may carry the item names, bounded like any name', () => {
    const results = { v: V, t: 'job-results', jobId: 'jabc', shards: [] };
    expect(parseFromCoordinator(results).ok).toBe(true);
    const named = parseFromCoordinator({ ...results, itemNames: ['a.png', 'b.png'] });
    expect(named.ok && named.msg.t === 'job-results' && named.msg.itemNames).toEqual(['a.png', 'b.png']);
    expect(parseFromCoordinator({ ...results, itemNames: ['x'.repeat(LIMITS.maxNameLength + 1)] }).ok).toBe(false);
  });
});

describe('parse: fields [M-4] [M-5] [M-6]', () => {
  it('[M-4] ids are 1-64 safe characters; model hashes are lowercase hex sha256; shard ids are "<job>/<n>"', () => {
    for (const leaseId of ['', 'a/b', 'x'.repeat(65), 'spa ce', 'ü']) {
      expect(parseToCoordinator({ ...VALID_TO['lease-abandon'], leaseId }).ok).toBe(false);
    }
    expect(parseToCoordinator({ ...VALID_TO['lease-abandon'], leaseId: 'x'.repeat(64) }).ok).toBe(true);
    for (const hash of ['C'.repeat(64), 'c'.repeat(63), 'g'.repeat(64)]) {
      expect(parseToCoordinator({ ...VALID_TO['model-request'], hash }).ok).toBe(false);
    }
    for (const shardId of ['jabc', 'jabc/', 'jabc/x', 'a/b/1']) expect(parseFromCoordinator({ ...VALID_FROM.lease, shardId }).ok).toBe(false);
  });

  it('[L-10] a lease-progress frame names a valid lease id and a finite, non-negative time', () => {
    for (const elapsedMs of [-1, Number.NaN, Number.POSITIVE_INFINITY, '40000']) {
      expect(parseToCoordinator({ ...VALID_TO['lease-progress'], elapsedMs }).ok).toBe(false);
    }
    for (const leaseId of ['', 'a/b', 'x'.repeat(65)]) expect(parseToCoordinator({ ...VALID_TO['lease-progress'], leaseId }).ok).toBe(false);
    expect(parseToCoordinator({ ...VALID_TO['lease-progress'], elapsedMs: 0 }).ok).toBe(true);
  });

  it('[M-4] counts and times are non-negative', () => {
    expect(parseToCoordinator({ ...VALID_TO['model-request'], offset: -1 }).ok).toBe(false);
    expect(parseToCoordinator({ ...VALID_TO['model-request'], offset: 0.5 }).ok).toBe(false);
    expect(parseFromCoordinator({ ...VALID_FROM['no-work'], retryInMs: -5 }).ok).toBe(false);
    expect(parseToCoordinator({ ...VALID_TO.result, inferMs: Infinity }).ok).toBe(false);
  });

  it('[M-5] a policy must have quorum ≤ replication ≤ maxReplicas ≤ the replica limit', () => {
    const submit = VALID_TO['submit-job'] as { spec: Raw };
    const withPolicy = (p: unknown): Raw => ({ ...submit, spec: { ...submit.spec, policy: p } });
    expect(parseToCoordinator(withPolicy(policy(2, 3, 4))).ok).toBe(false);
    expect(parseToCoordinator(withPolicy(policy(3, 2, 2))).ok).toBe(false);
    expect(parseToCoordinator(withPolicy(policy(2, 2, LIMITS.maxReplicas + 1))).ok).toBe(false);
    expect(parseToCoordinator(withPolicy(policy(0, 0, 1))).ok).toBe(false);
    expect(parseToCoordinator(withPolicy({ ...policy(2, 2, 2), comparator: { kind: 'allclose', atol: -1, rtol: 0 } })).ok).toBe(false);
    expect(parseToCoordinator(withPolicy({ ...policy(2, 2, 2), comparator: { kind: 'cosine' } })).ok).toBe(false);
    expect(parseToCoordinator(withPolicy(policy(1, 1, 1, { kind: 'argmax' }))).ok).toBe(true);
  });

  it('[M-6] volunteers, and only volunteers, send capabilities in hello', () => {
    expect(parseToCoordinator({ ...VALID_TO.hello, caps: null }).ok).toBe(false);
    expect(parseToCoordinator({ ...VALID_TO.hello, role: 'requester' }).ok).toBe(false);
    expect(parseToCoordinator({ ...VALID_TO.hello, role: 'requester', caps: null }).ok).toBe(true);
    expect(parseToCoordinator({ ...VALID_TO.hello, role: 'admin', caps: null }).ok).toBe(false);
    expect(parseToCoordinator({ ...VALID_TO.hello, caps: { ...caps('wasm'), backend: 'cuda' } }).ok).toBe(false);
  });
});
