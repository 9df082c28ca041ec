/**
 * `quorum submit` and `quorum results`: their flags, read into options. The policy flags are the
 * dashboard's policy form (src/model/policyForm.ts) field by field, so the same defaults apply and
 * the same checks (policyFromForm) refuse the same values with the same words.
 */
import { isValidNetworkName } from '../../src/host/networkId.ts';
import { COMPARATOR_KINDS, defaultPolicyForm, type ComparatorKind, type PolicyForm } from '../../src/model/policyForm.ts';
import { signalingForServer } from '../../src/transport/nodeTransport.node.ts';
import { fileWorkloadById } from '../../src/workloads/fileWorkloads.ts';
import { workloadById } from '../../src/workloads/registry.ts';
import { UsageError, parseFlags } from '../args.ts';
import { errorMessage } from '../../src/protocol/errorMessage.ts';

/** Where the coordinator is and how it is trusted: shared by both commands. */
export interface ConnectionOptions {
  readonly server: string;
  readonly network: string;
  /** [K-1] The coordinator key's fingerprint (--fp, or the requester link's fp=); null: trust on first use. */
  readonly fingerprint: string | null;
  /** Where pins.json is kept (as for `quorum volunteer`). */
  readonly stateRoot: string;
  readonly outDir: string;
}

export type JobSource =
  | { readonly kind: 'builtin'; readonly workload: string; readonly items: number }
  | { readonly kind: 'files'; readonly workload: string; readonly inputs: readonly string[] }
  | { readonly kind: 'model'; readonly model: string; readonly inputs: readonly string[] };

export interface SubmitOptions extends ConnectionOptions {
  readonly key: string;
  readonly source: JobSource;
  readonly form: PolicyForm;
}

export interface ResultsOptions extends Partial<ConnectionOptions> {
  readonly jobId: string;
  /** [J-11] The network's requester key: only its holders read a job's results. */
  readonly key: string;
  readonly outDir: string;
  readonly stateRoot: string;
}

const CONNECTION_FLAGS = ['server', 'network', 'fp', 'link', 'state', 'out'] as const;

/** Policy flag → the policy form's field, and whether it is a whole number. */
const POLICY_FLAGS = {
  'shard-size': 'shardSize',
  replication: 'replication',
  quorum: 'quorum',
  'max-replicas': 'maxReplicas',
  atol: 'atol',
  rtol: 'rtol',
  threshold: 'threshold',
  priority: 'priority',
  'ocr-min-iou': 'ocrMinIou',
  'ocr-max-cer': 'ocrMaxCer',
  'vad-tolerance-ms': 'vadToleranceMs',
} as const satisfies Record<string, keyof PolicyForm>;

const SUBMIT_FLAGS = [...CONNECTION_FLAGS, 'key', 'workload', 'items', 'model', 'inputs', 'comparator', 'adaptive', ...Object.keys(POLICY_FLAGS)];

export const SUBMIT_USAGE = `Usage: quorum submit --server URL --network NAME --key KEY --out DIR (--workload mnist [--items N] | --workload ocr|vad --inputs PATHS | --model M.onnx --inputs PATHS) [policy]
       quorum submit --link "REQUESTER LINK" --out DIR …

Submits a job to a network's coordinator over WebRTC, shows its progress and writes its verified
results into DIR as shards are verified, in the dashboard's export formats (JSON, CSV, .npy; a
pipeline job's answers as JSON, CSV and text). DIR/job.json names the job, so \`quorum results\` can
pick it up again after an interruption.

  --server URL       the Quorum server (signaling at URL/peerjs), e.g. http://127.0.0.1:5173
  --network NAME     the network to submit to
  --key KEY          the network's requester key (shown on the coordinator page, or in the requester
                     link quorum coordinator logs when ready)
  --link LINK        the coordinator's requester link (its page, or quorum coordinator's "coordinator
                     ready" log line): gives --server, --network, --key and --fp
  --fp FINGERPRINT   the coordinator key's fingerprint (fp=… in its links): only that key is trusted;
                     without it the first key seen is pinned in STATE/pins.json (trust on first use)
  --state DIR        where pins are kept (default .quorum, shared with quorum volunteer)
  --out DIR          where the results are written (created if missing)

What to run (one of):
  --workload mnist [--items N]        the built-in MNIST digits (default 2000 items)
  --workload ocr|vad --inputs PATHS   OCR on PNG/JPEG images, or VAD on WAV files
  --model M.onnx --inputs PATHS       your model on .npy/.json tensors or PNG/JPEG images
  PATHS: files or folders, comma-separated; a folder gives every file in it, sorted by path

Policy (the dashboard's form; its defaults):
  --shard-size N  --replication N  --quorum N  --max-replicas N  --priority 1-10
  --comparator allclose|argmax|exact|cosine  --atol X  --rtol X  --threshold X
  --adaptive yes|no  --ocr-min-iou X  --ocr-max-cer X  --vad-tolerance-ms N

Exits 0 when every shard is verified; 1 when the coordinator refuses the job (its reason is
printed), the inputs cannot be used (the dashboard's messages), or shards stay unverifiable.`;

export const RESULTS_USAGE = `Usage: quorum results JOB --out DIR --key KEY [--server URL --network NAME --fp FINGERPRINT --state DIR]
       quorum results JOB --out DIR --link LINK

Fetches what the network has verified of job JOB into DIR (the formats of quorum submit) and
follows the job until it is done. --server, --network and --fp default to those in DIR/job.json,
written by quorum submit. --key is the network's requester key (it is never written to disk):
only its holders read a job's results.`;

/** [K-1] A fingerprint as the join links carry it. */
export const FINGERPRINT = /^[A-Za-z0-9_-]{43}$/;

function checkServer(server: string): void {
  // A URL that cannot be used fails here, before anything is read or sent.
  try {
    signalingForServer(server);
  } catch (e) {
    throw new UsageError(`--server: ${errorMessage(e)}`);
  }
}

function checkNetwork(network: string): void {
  if (!isValidNetworkName(network)) throw new UsageError(`--network "${network}" is not a network name: 1-40 letters, digits, - or _`);
}

function checkFingerprint(fp: string | null): void {
  if (fp !== null && !FINGERPRINT.test(fp)) {
    throw new UsageError(`--fp "${fp}" is not a key fingerprint: copy the fp=… value (43 letters, digits, - or _) from the coordinator's links`);
  }
}

/** What a requester link (`ORIGIN/#/requester?network=…&fp=…&key=…`) says. */
export function parseRequesterLink(link: string): { server: string; network: string | null; fp: string | null; key: string | null } {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    throw new UsageError(
      `--link "${link}" is not a link: copy the requester link from the coordinator page, or from quorum coordinator's "coordinator ready" log line`,
    );
  }
  const hash = url.hash.replace(/^#/, '');
  const query = new URLSearchParams(hash.includes('?') ? hash.slice(hash.indexOf('?') + 1) : '');
  return { server: url.origin, network: query.get('network'), fp: query.get('fp'), key: query.get('key') };
}

function numberFlag(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${flag} must be a number, not "${value}"`);
  return n;
}

/** A comma-separated list of paths. */
const pathList = (value: string): string[] =>
  value
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');

/** Reads `quorum submit`'s flags; throws UsageError naming what to fix. Policy values are checked later, by policyFromForm. */
export function parseSubmitArgs(argv: readonly string[]): SubmitOptions {
  const flags = parseFlags(argv, SUBMIT_FLAGS);
  const link = flags.has('link') ? parseRequesterLink(flags.get('link') as string) : null;
  const server = flags.get('server') ?? link?.server;
  const network = flags.get('network') ?? link?.network ?? undefined;
  const key = flags.get('key') ?? link?.key ?? undefined;
  const fingerprint = flags.get('fp') ?? link?.fp ?? null;
  const outDir = flags.get('out');
  if (server === undefined) throw new UsageError('--server is required (or --link): the Quorum server URL, e.g. --server http://127.0.0.1:5173');
  if (network === undefined) throw new UsageError('--network is required (or --link): the name of the network to submit to');
  if (key === undefined)
    throw new UsageError(
      "--key is required (or --link): the network's requester key, shown on the coordinator page or in the requester link quorum coordinator logs when ready",
    );
  if (outDir === undefined) throw new UsageError('--out is required: the folder the verified results are written to');
  checkServer(server);
  checkNetwork(network);
  checkFingerprint(fingerprint);

  const workload = flags.get('workload');
  const model = flags.get('model');
  const inputs = flags.has('inputs') ? pathList(flags.get('inputs') as string) : null;
  let source: JobSource;
  if (workload !== undefined && model !== undefined) throw new UsageError('give --workload or --model, not both');
  if (model !== undefined) {
    if (!inputs?.length) throw new UsageError('--model needs --inputs: the .npy/.json tensors or images to run it on');
    source = { kind: 'model', model, inputs };
  } else if (workload !== undefined) {
    const builtIn = workloadById(workload);
    const files = fileWorkloadById(workload);
    if (builtIn) {
      if (inputs) throw new UsageError(`--workload ${workload} brings its own inputs: leave out --inputs (choose how many with --items)`);
      const items = flags.has('items') ? numberFlag('items', flags.get('items') as string) : builtIn.defaultItems;
      if (!Number.isInteger(items) || items < 1 || items > builtIn.maxItems) {
        throw new UsageError(`--items: choose a whole number of ${builtIn.itemNoun} from 1 to ${builtIn.maxItems}, not "${flags.get('items')}"`);
      }
      source = { kind: 'builtin', workload, items };
    } else if (files) {
      if (!inputs?.length) throw new UsageError(`--workload ${workload} needs --inputs: ${files.hint}`);
      source = { kind: 'files', workload, inputs };
    } else {
      throw new UsageError(`there is no built-in workload "${workload}": the workloads are mnist, ocr, vad`);
    }
  } else {
    throw new UsageError('say what to run: --workload mnist|ocr|vad, or --model M.onnx --inputs PATHS');
  }
  if (flags.has('items') && source.kind !== 'builtin') throw new UsageError('--items is for --workload mnist: other jobs have one item per input row or file');

  const defaults = defaultPolicyForm();
  // A file workload starts from its own shard size, as the dashboard's form does.
  const fileWorkload = source.kind === 'files' ? fileWorkloadById(source.workload) : undefined;
  let form: PolicyForm = fileWorkload ? { ...defaults, shardSize: fileWorkload.defaultShardSize } : defaults;
  for (const [flag, field] of Object.entries(POLICY_FLAGS)) {
    const value = flags.get(flag);
    if (value !== undefined) form = { ...form, [field]: numberFlag(flag, value) };
  }
  const comparator = flags.get('comparator');
  if (comparator !== undefined) {
    if (!(COMPARATOR_KINDS as readonly string[]).includes(comparator)) {
      throw new UsageError(`--comparator "${comparator}" is not one of ${COMPARATOR_KINDS.join(', ')}`);
    }
    form = { ...form, comparator: comparator as ComparatorKind };
  }
  const adaptive = flags.get('adaptive');
  if (adaptive !== undefined) {
    if (adaptive !== 'yes' && adaptive !== 'no') throw new UsageError(`--adaptive is yes or no, not "${adaptive}"`);
    form = { ...form, adaptive: adaptive === 'yes' };
  }
  return { server, network, key, fingerprint, stateRoot: flags.get('state') ?? '.quorum', outDir, source, form };
}

/** Reads `quorum results JOB …`; what is not given comes from DIR/job.json later. */
export function parseResultsArgs(argv: readonly string[]): ResultsOptions {
  const [jobId, ...rest] = argv;
  if (jobId === undefined || jobId.startsWith('--')) throw new UsageError('name the job: quorum results JOB --out DIR (JOB is in DIR/job.json)');
  const flags = parseFlags(rest, [...CONNECTION_FLAGS, 'key']);
  const link = flags.has('link') ? parseRequesterLink(flags.get('link') as string) : null;
  const key = flags.get('key') ?? link?.key ?? undefined;
  const outDir = flags.get('out');
  if (outDir === undefined) throw new UsageError('--out is required: the folder the verified results are written to');
  if (key === undefined)
    throw new UsageError(
      "--key is required (or --link): the network's requester key, shown on the coordinator page or in the requester link quorum coordinator logs when ready; only its holders read a job's results",
    );
  const server = flags.get('server') ?? link?.server;
  const network = flags.get('network') ?? link?.network ?? undefined;
  const fingerprint = flags.get('fp') ?? link?.fp ?? undefined;
  if (server !== undefined) checkServer(server);
  if (network !== undefined) checkNetwork(network);
  if (fingerprint !== undefined) checkFingerprint(fingerprint);
  return {
    jobId,
    outDir,
    stateRoot: flags.get('state') ?? '.quorum',
    ...(server !== undefined ? { server } : {}),
    ...(network !== undefined ? { network } : {}),
    ...(fingerprint !== undefined ? { fingerprint } : {}),
    key,
  };
}
