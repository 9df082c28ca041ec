/**
 * `quorum submit` and `quorum results` end to end in one process: a real PeerServer, the
 * coordinator host in Node (fake-indexeddb) over the Node transport (real WebRTC on loopback),
 * two headless volunteers started by `quorum volunteer`'s own module, and the commands' own run
 * functions. The MNIST job's files in the output folder must equal a reference run of the same
 * model on onnxruntime-web; a refusal, an untrusted key and each kind of bad input exit 1 with
 * the coordinator's or the dashboard's own words.
 */
import 'fake-indexeddb/auto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../scripts/make-probe-model.ts';
import { sniffOnnx } from '../../src/core/onnxSniff.ts';
import { checkInputsAgainstSignature } from '../../src/core/jobChecks.ts';
import { CoordinatorHost } from '../../src/host/coordinatorHost.ts';
import type { CoordinatorIdentity } from '../../src/host/coordinatorKey.ts';
import { ModelInspector } from '../../src/host/modelInspector.ts';
import { defaultPolicyForm } from '../../src/model/policyForm.ts';
import { newIdentity } from '../../src/host/testing/provingCoordinator.ts';
import { CoordinatorStore } from '../../src/persistence/coordinatorStore.ts';
import { openQuorumDb } from '../../src/persistence/db.ts';
import { type JobId } from '../../src/protocol/ids.ts';
import { float32View } from '../../src/protocol/tensor.ts';
import { createOrtEngine } from '../../src/runtime/ortEngine.ts';
import { createOrtNodeEngine } from '../../src/runtime/ortNodeEngine.node.ts';
import { slowEngine } from '../../src/runtime/slowEngine.ts';
import type { EndpointFactory } from '../../src/transport/transport.ts';
import { writeNpy, parseNpy } from '../../src/workloads/inputs/npy.ts';
import { argmaxRows, decodeMnistHoldout, MNIST_CLASSES, MNIST_INPUT_NAME, MNIST_PIXELS } from '../../src/workloads/mnist/holdout.ts';
import { mnistBatch } from '../../src/workloads/mnist/mnistJob.ts';
import { RESULTS_FORMAT } from '../../src/workloads/export/exporters.ts';
import { UsageError } from '../args.ts';
import { startVolunteers, type VolunteerRun } from '../volunteer/volunteerCommand.ts';
import { buildJob } from './jobSource.ts';
import { JOB_FILE } from './resultsFolder.ts';
import { startLoopbackSignaling, tmpDirs, waitFor, type LoopbackSignaling } from '../testing/loopbackRig.ts';
import { webReference } from '../testing/webReference.ts';
import { verifyReceiptCli } from '../../scripts/receipts/verifyReceiptCli.ts';
import { parseResultsArgs, parseSubmitArgs, type SubmitOptions } from './submitArgs.ts';
import { runResults, runSubmit } from './submitCommand.ts';

const NET = 'submit-cli';
const KEY = 'sesame';
const MODEL_FILE = fileURLToPath(new URL('../../public/models/mnist-mlp.onnx', import.meta.url));
const MODEL = fs.readFileSync(MODEL_FILE);
const HOLDOUT = decodeMnistHoldout(fs.readFileSync(new URL('../../public/data/mnist-holdout.bin', import.meta.url)).buffer as ArrayBuffer);
const ITEMS = 120;
const SHARD = 15;

let loopback: LoopbackSignaling;
let url: string;
let factory: EndpointFactory;
let host: CoordinatorHost;
let identity: CoordinatorIdentity;
let volunteers: VolunteerRun;
const dirs = tmpDirs('quorum-submit-');
const tmpDir = (): string => dirs.make();

/** What a run printed, on stdout and stderr. */
function recorder(): { out: { isTTY: boolean; write(t: string): void }; err: { write(t: string): void }; text: () => string; errors: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out: { isTTY: false, write: (t) => void out.push(t) },
    err: { write: (t) => void err.push(t) },
    text: () => out.join(''),
    errors: () => err.join(''),
  };
}

/** `quorum submit`'s options for the built-in MNIST workload, as the flags give them. */
function mnistOptions(out: string, extra: string[] = []): SubmitOptions {
  return parseSubmitArgs([
    ...['--server', url, '--network', NET, '--key', KEY, '--out', out, '--state', tmpDir()],
    ...['--workload', 'mnist', '--items', String(ITEMS), '--shard-size', String(SHARD), ...extra],
  ]);
}

beforeAll(async () => {
  loopback = await startLoopbackSignaling();
  ({ url, factory } = loopback);
  identity = await newIdentity();
  host = new CoordinatorHost({
    identity,
    networkId: NET,
    factory,
    store: new CoordinatorStore(await openQuorumDb(`submit-${process.pid}-${Date.now()}`), NET),
    config: { requesterKey: KEY },
    inspector: new ModelInspector(() => createOrtEngine()),
  });
  await host.start();
  // Each shard is held a while, so results are written while the job still runs.
  volunteers = await startVolunteers(
    { server: url, network: NET, count: 2, threads: 1, stateRoot: tmpDir(), fingerprint: identity.fingerprint },
    {
      factory,
      out: { isTTY: false, write: () => undefined },
      signals: new EventEmitter(),
      exitNow: () => undefined,
      createEngine: () => slowEngine(createOrtNodeEngine(), 150),
    },
  );
});

afterAll(async () => {
  await volunteers?.stop();
  host?.stop();
  await loopback?.close();
  dirs.removeAll();
}, 60_000);

describe('quorum submit and quorum results', () => {
  let jobId: JobId;
  let firstOut: string;

  it('submits a built-in MNIST job, writes verified shards while it runs, and ends with exports equal to a reference run', async () => {
    firstOut = tmpDir();
    const io = recorder();
    const running = runSubmit(mnistOptions(firstOut, ['--fp', identity.fingerprint]), { factory, out: io.out, err: io.err, signals: new EventEmitter() });
    // Streamed: the .npy holds some verified shards before the coordinator has verified them all.
    const npyFile = await waitFor('the first verified shards on disk', () => fs.readdirSync(firstOut).find((f) => f.endsWith('.npy')));
    const early = JSON.parse(fs.readFileSync(path.join(firstOut, JOB_FILE), 'utf8')) as { jobId: JobId; verifiedShards: number; shards: number };
    expect(early.verifiedShards).toBeGreaterThan(0);
    expect(early.verifiedShards).toBeLessThan(ITEMS / SHARD);

    expect(await running).toBe(0);
    jobId = early.jobId;
    const record = JSON.parse(fs.readFileSync(path.join(firstOut, JOB_FILE), 'utf8')) as Record<string, unknown>;
    expect(record).toMatchObject({ jobId, server: url, network: NET, items: ITEMS, shards: ITEMS / SHARD, verifiedShards: ITEMS / SHARD, done: true });
    expect(host.core.jobStatuses().find((j) => j.jobId === jobId)).toMatchObject({ done: true, verified: ITEMS / SHARD });
    // The dashboard's exports, under the dashboard's names.
    // [AU-6] The CSV and .npy come with the coordinator's receipt beside them (the JSON carries it inline).
    expect(fs.readdirSync(firstOut).sort()).toEqual(
      [
        `${jobId}-logits.npy`,
        `${jobId}-logits.npy.receipt.json`,
        `${jobId}-results.csv`,
        `${jobId}-results.csv.receipt.json`,
        `${jobId}-results.json`,
        JOB_FILE,
      ].sort(),
    );
    expect(npyFile).toBe(`${jobId}-logits.npy`);
    // [AU-4] Every export verifies offline against the coordinator's key.
    for (const name of [`${jobId}-results.json`, `${jobId}-results.csv`, `${jobId}-logits.npy`]) {
      const verdict = await verifyReceiptCli([path.join(firstOut, name), '--fp', identity.fingerprint]);
      expect(verdict.code, verdict.lines.join('\n')).toBe(0);
    }

    const npy = parseNpy(fs.readFileSync(path.join(firstOut, npyFile)).slice().buffer);
    expect(npy.shape).toEqual([ITEMS, MNIST_CLASSES]);
    const logits = new Float32Array(npy.data);
    // Bit for bit what the coordinator verified.
    const verified = new Float32Array(ITEMS * MNIST_CLASSES);
    for (const s of host.core.verifiedShards(jobId)) verified.set(float32View(s.outputs[0]!), s.start * MNIST_CLASSES);
    expect(Array.from(logits)).toEqual(Array.from(verified));
    const json = JSON.parse(fs.readFileSync(path.join(firstOut, `${jobId}-results.json`), 'utf8')) as { format: string; itemNames: string[] };
    expect(json.format).toBe(RESULTS_FORMAT);
    expect(json.itemNames.slice(0, 2)).toEqual(['mnist#0', 'mnist#1']);

    const inputs = { name: MNIST_INPUT_NAME, dtype: 'float32' as const, dims: [ITEMS, MNIST_PIXELS], data: mnistBatch(HOLDOUT, ITEMS).data };
    const reference = await webReference(MODEL, inputs);
    expect(Array.from(argmaxRows(logits, MNIST_CLASSES))).toEqual(Array.from(argmaxRows(reference, MNIST_CLASSES)));
    let worst = 0;
    for (let i = 0; i < reference.length; i++) worst = Math.max(worst, Math.abs(logits[i]! - reference[i]!));
    expect(worst).toBeLessThan(1e-4);
    // Not a terminal: one progress line per change, with the figures the dashboard shows.
    const lines = io.text().split('\n');
    expect(lines.some((l) => /^\[#*\.*\] \d+\/8 shards verified · \d+ in flight · \d+ pending · .* items\/s · ETA /.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith(`job ${jobId} done: 8 verified shard(s) of 8`))).toBe(true);
  });

  it('quorum results fetches a job’s verified results into a fresh folder, the same results byte for byte', async () => {
    const out = tmpDir();
    const io = recorder();
    const options = parseResultsArgs([jobId, '--out', out, '--server', url, '--network', NET, '--fp', identity.fingerprint, '--key', KEY, '--state', tmpDir()]);
    expect(await runResults(options, { factory, out: io.out, err: io.err, signals: new EventEmitter() })).toBe(0);
    for (const name of [`${jobId}-logits.npy`, `${jobId}-results.csv`]) {
      expect(fs.readFileSync(path.join(out, name)).equals(fs.readFileSync(path.join(firstOut, name)))).toBe(true);
    }
    // The JSON too, but for its receipt: each is signed afresh (its own time, a randomised ECDSA signature) over the same root.
    type WithReceipt = { receipt: { body: { root: string } } };
    const json = (dir: string): WithReceipt => JSON.parse(fs.readFileSync(path.join(dir, `${jobId}-results.json`), 'utf8')) as WithReceipt;
    const [fresh, first] = [json(out), json(firstOut)];
    expect(fresh.receipt.body.root).toBe(first.receipt.body.root);
    expect({ ...fresh, receipt: null }).toEqual({ ...first, receipt: null });
    // Resumed from job.json alone: the folder says where the job runs.
    const again = recorder();
    expect(
      await runResults(parseResultsArgs([jobId, '--out', out, '--key', KEY, '--state', tmpDir()]), {
        factory,
        out: again.out,
        err: again.err,
        signals: new EventEmitter(),
      }),
    ).toBe(0);
  });

  it('quorum results of a job the coordinator does not know exits 1 and says so; a folder of another job is refused', async () => {
    const io = recorder();
    const options = parseResultsArgs(['jnosuchjob', '--out', tmpDir(), '--server', url, '--network', NET, '--key', KEY, '--state', tmpDir()]);
    expect(await runResults(options, { factory, out: io.out, err: io.err, signals: new EventEmitter() })).toBe(1);
    expect(io.errors()).toContain(`does not know job jnosuchjob`);
    await expect(runResults(parseResultsArgs(['jother', '--out', firstOut, '--key', KEY]), { factory })).rejects.toThrow(UsageError);
  });

  it('a job the coordinator refuses (a wrong requester key) exits 1 with the coordinator’s reason', async () => {
    const io = recorder();
    const options = { ...mnistOptions(tmpDir()), key: 'not-the-key' };
    expect(await runSubmit(options, { factory, out: io.out, err: io.err, signals: new EventEmitter() })).toBe(1);
    expect(io.errors()).toMatch(
      /quorum: the coordinator refused the job: wrong requester key: copy the key the coordinator shows \(on its page, or in the requester link quorum coordinator logs when ready\)/,
    );
  });

  it('[K-4] a coordinator whose key is not the --fp given gets nothing and the run exits 1 with the key alarm', async () => {
    const io = recorder();
    const wrong = 'A'.repeat(43);
    expect(await runSubmit(mnistOptions(tmpDir(), ['--fp', wrong]), { factory, out: io.out, err: io.err, signals: new EventEmitter() })).toBe(1);
    expect(io.errors()).toContain(`presented key ${identity.fingerprint}, but the join link you opened names key ${wrong}`);
    expect(host.core.jobStatuses()).toHaveLength(1);
  });
});

describe('quorum submit refuses bad input before sending anything, in the dashboard’s words', () => {
  const submit = async (flags: string[]): Promise<{ code: number; errors: string }> => {
    const io = recorder();
    const options = parseSubmitArgs(['--server', url, '--network', NET, '--key', KEY, '--out', tmpDir(), ...flags]);
    const code = await runSubmit(options, { factory, out: io.out, err: io.err, signals: new EventEmitter() });
    return { code, errors: io.errors() };
  };
  const file = (name: string, bytes: Uint8Array | string): string => {
    const p = path.join(tmpDir(), name);
    fs.writeFileSync(p, bytes);
    return p;
  };
  const pixels = (rows: number, cols: number): string =>
    file('batch.npy', writeNpy({ dtype: 'float32', shape: [rows, cols], data: new Float32Array(rows * cols).buffer }));

  it('a missing model or input file', async () => {
    const missing = path.join(tmpDir(), 'nope.onnx');
    const a = await submit(['--model', missing, '--inputs', pixels(2, MNIST_PIXELS)]);
    expect(a.code).toBe(1);
    expect(a.errors).toContain(`"${missing}" does not exist: check the path given to --model.`);
    const b = await submit(['--model', MODEL_FILE, '--inputs', `${pixels(2, MNIST_PIXELS)},${path.join(tmpDir(), 'gone.npy')}`]);
    expect(b.code).toBe(1);
    expect(b.errors).toMatch(/gone\.npy" does not exist: check the path given to --inputs\./);
    const c = await submit(['--workload', 'ocr', '--inputs', path.join(tmpDir(), 'no-folder')]);
    expect(c.code).toBe(1);
    expect(c.errors).toMatch(/no-folder" does not exist/);
  });

  it('a file that is not ONNX', async () => {
    const bogus = new TextEncoder().encode('<html>not a model</html>');
    const { code, errors } = await submit(['--model', file('model.onnx', bogus), '--inputs', pixels(2, MNIST_PIXELS)]);
    expect(code).toBe(1);
    const sniff = sniffOnnx(bogus);
    expect(sniff.ok).toBe(false);
    expect(errors).toContain(sniff.ok ? '' : sniff.reason);
  });

  it('inputs that do not match the model', async () => {
    const { code, errors } = await submit(['--model', MODEL_FILE, '--inputs', pixels(3, 100)]);
    expect(code).toBe(1);
    const inspection = await new ModelInspector(() => createOrtNodeEngine()).inspect(MODEL.slice().buffer);
    if (!inspection.ok) throw new Error(inspection.reason);
    const expected = checkInputsAgainstSignature(inspection.signature, [{ name: MNIST_INPUT_NAME, dtype: 'float32', dims: [3, 100] }], 100);
    expect(expected.length).toBeGreaterThan(0);
    for (const problem of expected) expect(errors).toContain(problem);
  });

  it('a file workload given files it does not read, and a policy the form refuses', async () => {
    const text = file('notes.txt', 'hello');
    const a = await submit(['--workload', 'vad', '--inputs', text]);
    expect(a.code).toBe(1);
    expect(a.errors).toContain('"notes.txt" is not one of the WAV files this workload reads');
    const b = await submit(['--workload', 'mnist', '--items', '10', '--replication', '1', '--quorum', '2']);
    expect(b.code).toBe(1);
    expect(b.errors).toContain('the policy needs quorum ≤ replication ≤ max replicas (now 2, 1, ');
  });

  it('a model with its .npy inputs becomes the job the dashboard’s draft builds', async () => {
    const model = file(
      'double.onnx',
      buildModel({
        inputs: [{ name: 'x', type: 'float32', dims: ['n', 3] }],
        outputs: [{ name: 'y', type: 'float32', dims: ['n', 3] }],
        nodes: [{ op: 'Add', inputs: ['x', 'x'], outputs: ['y'] }],
      }),
    );
    const inputs = file('rows.npy', writeNpy({ dtype: 'float32', shape: [4, 3], data: new Float32Array(12).fill(1).buffer }));
    const built = await buildJob({ kind: 'model', model, inputs: [inputs] }, { ...defaultPolicyForm(), shardSize: 2 }, KEY);
    if (!built.ok) throw new Error(built.problems.join('; '));
    expect(built.spec).toMatchObject({
      name: 'double × 4',
      shardSize: 2,
      requesterKey: KEY,
      itemNames: ['rows.npy#0', 'rows.npy#1', 'rows.npy#2', 'rows.npy#3'],
    });
    expect(built.spec.inputs.map((t) => [t.name, t.dims])).toEqual([['x', [4, 3]]]);
  });
});

describe('quorum submit’s flags', () => {
  const base = ['--server', 'http://127.0.0.1:5173', '--network', 'lab', '--key', 'k', '--out', 'o'];

  it('maps the policy flags onto the dashboard’s policy form, from its defaults', () => {
    const o = parseSubmitArgs([
      ...base,
      '--workload',
      'mnist',
      '--replication',
      '3',
      '--quorum',
      '2',
      '--comparator',
      'argmax',
      '--adaptive',
      'yes',
      '--priority',
      '4',
    ]);
    expect(o.form).toEqual({ ...defaultPolicyForm(), replication: 3, quorum: 2, comparator: 'argmax', adaptive: true, priority: 4 });
    expect(o.source).toEqual({ kind: 'builtin', workload: 'mnist', items: 2000 });
    // A file workload starts from its own shard size, as the form does.
    expect(parseSubmitArgs([...base, '--workload', 'ocr', '--inputs', 'a.png,b.png']).form.shardSize).toBe(4);
  });

  it('takes the server, network, key and fingerprint from the coordinator page’s requester link', () => {
    const fp = 'B'.repeat(43);
    const o = parseSubmitArgs(['--link', `http://10.0.0.2:8080/#/requester?network=lab&fp=${fp}&key=abc`, '--out', 'o', '--workload', 'mnist']);
    expect(o).toMatchObject({ server: 'http://10.0.0.2:8080', network: 'lab', key: 'abc', fingerprint: fp });
  });

  it('refuses what cannot run, naming what to change', () => {
    expect(() => parseSubmitArgs([...base])).toThrow(/say what to run/);
    expect(() => parseSubmitArgs([...base, '--workload', 'cats'])).toThrow(/no built-in workload "cats"/);
    expect(() => parseSubmitArgs([...base, '--model', 'm.onnx'])).toThrow(/--model needs --inputs/);
    expect(() => parseSubmitArgs([...base, '--workload', 'mnist', '--items', '0'])).toThrow(/--items: choose a whole number of digits from 1 to/);
    expect(() => parseSubmitArgs([...base, '--workload', 'mnist', '--replication', 'two'])).toThrow(/--replication must be a number/);
    expect(() => parseSubmitArgs([...base, '--workload', 'mnist', '--fp', 'short'])).toThrow(/is not a key fingerprint/);
    expect(() => parseSubmitArgs(['--network', 'lab', '--key', 'k', '--out', 'o', '--workload', 'mnist'])).toThrow(/--server is required/);
    expect(() => parseResultsArgs(['--out', 'o'])).toThrow(/name the job/);
    // [J-11] Only the key's holders read a job's results: without it the coordinator says nothing.
    expect(() => parseResultsArgs(['j1', '--out', 'o'])).toThrow(/--key is required/);
  });
});
