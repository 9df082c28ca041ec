/**
 * [V-12] Pipeline jobs are verified on their answers: volunteers return one answer per item, the
 * coordinator checks their count and kind, compares replicas with the answer comparator (OCR:
 * boxes by IoU, text exactly), and publishes the accepted answers in job-results.
 */
import { describe, expect, it } from 'vitest';
import { asModelHash, type LeaseId, type PeerId } from '../../protocol/ids.ts';
import type { FromCoordinator, JobSpec, ToCoordinator } from '../../protocol/messages.ts';
import type { Answer, OcrLine, Pipeline } from '../../protocol/pipeline.ts';
import type { VerificationPolicy } from '../../protocol/policy.ts';
import { only, sent } from '../testing/coordinatorFrames.ts';
import { CoordinatorRig, type Lease } from '../testing/coordinatorRig.ts';
import { files } from '../testing/fileJobFixtures.ts';
import { HASH_A, HASH_B, V, countingBytes, f32, policy } from '../testing/fixtures.ts';

const HASH_C = asModelHash('c'.repeat(64));

type Ack = Extract<FromCoordinator, { t: 'result-ack' }>;

const ocrPipelineSpec: Pipeline = {
  v: 1,
  stages: [
    { op: 'decode-image', maxPixels: 1_000_000 },
    {
      op: 'ocr',
      detect: { model: HASH_A, limitSideLen: 960, threshold: 0.3, boxThreshold: 0.6, unclipRatio: 2.5, maxCandidates: 1000 },
      classify: { model: HASH_B, threshold: 0.9 },
      recognize: { model: HASH_C, dictionary: HASH_C, height: 48, maxWidth: 1920 },
    },
  ],
};

const ocrSpec = (n: number, shardSize: number, p: VerificationPolicy = policy(2, 2, 4)): JobSpec => ({
  name: 'scans',
  model: countingBytes(100),
  inputs: [],
  pipeline: ocrPipelineSpec,
  files: files(n),
  shardSize,
  policy: p,
  requesterKey: '',
});

/** Item i reads "line i" in a box at height 10·i; `shift` moves the box by pixels, `text` overrides. */
const line = (i: number, shift = 0, text = `line ${i}`): OcrLine => ({
  box: [
    [10 + shift, 10 * i],
    [110 + shift, 10 * i],
    [110 + shift, 10 * i + 8],
    [10 + shift, 10 * i + 8],
  ],
  text,
  confidence: 0.97,
});
const ocrAnswers = (l: Lease, shift = 0, text?: string): Answer[] =>
  (l.files ?? []).map((f) => ({ kind: 'ocr', lines: [line(Number(f.name.slice(5, -4)), shift, text)] }));

class Rig extends CoordinatorRig {
  constructor() {
    super(5);
  }

  result(v: PeerId, l: Lease, body: { outputs?: ReturnType<typeof f32>[]; answers?: Answer[] }): Ack {
    const msg = { v: V, t: 'result', leaseId: l.leaseId as LeaseId, outputs: body.outputs ?? [], backend: 'wasm', inferMs: 1 } as const;
    return only(sent(this.handle(v, body.answers ? { ...msg, answers: body.answers } : msg), v), 'result-ack');
  }

  results(): Extract<FromCoordinator, { t: 'job-results' }> {
    const jobId = this.core.jobStatuses()[0]!.jobId;
    return only(sent(this.handle(this.req, { v: V, t: 'results-request', jobId }), this.req), 'job-results');
  }
}

describe('pipeline jobs verified on their answers [V-12]', () => {
  it('[V-12] two volunteers whose OCR answers agree (boxes a pixel apart, same text) verify the shard, and job-results carry the answers', () => {
    const rig = new Rig();
    expect(rig.submit(ocrSpec(2, 2))).toMatchObject({ t: 'job-accepted', shards: 1 });
    const [a, b] = [rig.join('a'), rig.join('b')];
    const la = rig.lease(a);
    const lb = rig.lease(b);
    expect(la.pipeline).toEqual(ocrPipelineSpec);
    expect(rig.result(a, la, { answers: ocrAnswers(la) }).outcome).toBe('received');
    expect(rig.result(b, lb, { answers: ocrAnswers(lb, 1) }).outcome).toBe('received');
    expect(rig.core.jobStatuses()[0]).toMatchObject({ verified: 1, done: true });
    const [shard] = rig.results().shards;
    expect(shard!.outputs).toEqual([]);
    expect(shard!.answers).toEqual(ocrAnswers(la));
    expect(shard!.volunteers).toEqual([a, b]);
  });

  it('[V-12] [V-9] a different text is a disagreement: a third volunteer decides, and the liar is outvoted', () => {
    const rig = new Rig();
    rig.submit(ocrSpec(1, 1, policy(2, 2, 3)));
    const [a, b, c] = [rig.join('a'), rig.join('b'), rig.join('c')];
    const la = rig.lease(a);
    const lb = rig.lease(b);
    rig.result(a, la, { answers: ocrAnswers(la) });
    rig.result(b, lb, { answers: ocrAnswers(lb, 0, 'l1ne 0') });
    expect(rig.core.jobStatuses()[0]).toMatchObject({ verified: 0, disagreements: 0, done: false });
    const lc = rig.lease(c);
    rig.result(c, lc, { answers: ocrAnswers(lc, 2) });
    expect(rig.core.jobStatuses()[0]).toMatchObject({ verified: 1, disagreements: 1 });
    expect(rig.results().shards[0]!.answers).toEqual(ocrAnswers(la));
    expect(rig.results().shards[0]!.volunteers).toEqual([a, c]);
  });

  it("[V-12] [R-5] a result that is not one answer of the pipeline's kind per item is rejected as broken, and the slot offered again", () => {
    const rig = new Rig();
    rig.submit(ocrSpec(2, 2));
    const v = rig.join('v');
    const tensors = rig.result(v, rig.lease(v), { outputs: [f32('y', [2, 1], [1, 2])] });
    expect(tensors).toMatchObject({ outcome: 'rejected', reason: expect.stringMatching(/no answers: this job's pipeline answers with ocr/) });
    const short = rig.lease(v);
    expect(rig.result(v, short, { answers: ocrAnswers(short).slice(0, 1) })).toMatchObject({ outcome: 'rejected', reason: '1 answers, the shard has 2 items' });
    const wrongKind = rig.lease(v);
    const segments: Answer[] = [
      { kind: 'segments', segments: [] },
      { kind: 'segments', segments: [] },
    ];
    expect(rig.result(v, wrongKind, { answers: segments })).toMatchObject({
      outcome: 'rejected',
      reason: "answer 1 is segments, this job's pipeline answers with ocr",
    });
    expect(rig.core.jobStatuses()[0]).toMatchObject({ verified: 0 });
  });

  it("[V-12] answers for a job of tensors are rejected: its results are the model's outputs", () => {
    const rig = new Rig();
    rig.submit({ ...ocrSpec(1, 1), pipeline: undefined as never, files: undefined as never, inputs: [f32('x', [1, 2], [1, 2])] } as JobSpec);
    const v = rig.join('v');
    const l = rig.lease(v);
    expect(rig.result(v, l, { outputs: [f32('y', [1, 1], [1])], answers: [{ kind: 'labels', labels: [] }] }).outcome).toBe('rejected');
  });

  it('[V-12] the policy\'s answer comparator decides: with a character error rate of 0.2, one wrong letter in "line 0" still agrees', () => {
    const rig = new Rig();
    rig.submit(ocrSpec(1, 1, { ...policy(2, 2, 3), answerComparator: { kind: 'ocr', minIou: 0.5, maxCer: 0.2 } }));
    const [a, b] = [rig.join('a'), rig.join('b')];
    const la = rig.lease(a);
    const lb = rig.lease(b);
    rig.result(a, la, { answers: ocrAnswers(la) });
    rig.result(b, lb, { answers: ocrAnswers(lb, 0, 'l1ne 0') });
    expect(rig.core.jobStatuses()[0]).toMatchObject({ verified: 1, disagreements: 0 });
  });
});

describe('[V-13] the spread a job measures between replicas', () => {
  it('[V-13] job status reports the honest spread of replicas across backends on the first shards', () => {
    const rig = new Rig();
    rig.submit(ocrSpec(2, 1));
    const [a, b] = [rig.join('a'), rig.join('b')];
    for (let i = 0; i < 2; i++) {
      const la = rig.lease(a);
      const lb = rig.lease(b);
      rig.result(a, la, { answers: ocrAnswers(la) });
      const msg: ToCoordinator = { v: V, t: 'result', leaseId: lb.leaseId as LeaseId, outputs: [], answers: ocrAnswers(lb, 10), backend: 'webgpu', inferMs: 1 };
      rig.handle(b, msg);
    }
    const status = rig.core.jobStatuses()[0]!;
    expect(status.verified).toBe(2);
    expect(status.spread).toMatchObject({ pairs: 2, crossBackendPairs: 2, ocr: { maxCer: 0, unpaired: 0 } });
    expect(status.spread!.ocr!.minIou).toBeCloseTo(90 / 110, 6);
  });
});
