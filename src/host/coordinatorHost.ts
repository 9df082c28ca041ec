/**
 * The coordinator tab's shell: registers the network's well-known peer id, feeds connections
 * and parsed frames into `CoordinatorCore`, and carries out the effects it returns (send, hash,
 * store, log). It owns the timers; the core owns every decision.
 */
import { CoordinatorCore } from '../core/coordinator/coordinator.ts';
import type { CoordinatorEffect } from '../core/coordinator/effects.ts';
import { DEFAULT_COORDINATOR_CONFIG, type CoordinatorConfig, type OutputPort } from '../core/coordinator/state.ts';
import { TelemetryAggregator } from '../core/telemetry/aggregator.ts';
import { seededRng } from '../core/rng.ts';
import { bundleAssetsProblem, checkFileJobLimits, checkPipelineAgainstSignature, pipelineNeedsBundle } from '../core/fileJobChecks.ts';
import { isAssetBundle } from '../protocol/assetBundle.ts';
import { pipelineDictionaries, pipelineModels, type Pipeline } from '../protocol/pipeline.ts';
import { hashedAssets } from '../runtime/assetHashes.ts';
import { checkInputsAgainstSignature, checkJobLimits, DEFAULT_JOB_LIMITS, type JobLimits, type SignatureLike } from '../core/jobChecks.ts';
import { checkShardOutputBudget } from '../core/shardOutputBudget.ts';
import { asModelHash, type PeerId } from '../protocol/ids.ts';
import { LIMITS } from '../protocol/limits.ts';
import { PROTOCOL_VERSION, type FromCoordinator, type JobSpec } from '../protocol/messages.ts';
import { parseToCoordinator } from '../protocol/parse.ts';
import type { CoordinatorStorage } from '../persistence/coordinatorStorage.ts';
import { sha256Hex } from '../runtime/sha256.ts';
import { appendLog } from '../model/log.ts';
import { memoryViewPort, type ViewPort } from '../model/viewPort.ts';
import type { CoordinatorView } from '../model/coordinatorView.ts';
import type { KeyTrustView } from '../model/keyTrustView.ts';
import { initialState } from '../model/state.ts';
import { TransportError, type Endpoint, type EndpointFactory } from '../transport/transport.ts';
import { generateCoordinatorKeyPair, identityOf, type CoordinatorIdentity } from './coordinatorKey.ts';
import { issueReceipt, receiptJobOf } from './receiptSigner.ts';
import { answerChallenge } from './coordinatorProver.ts';
import { VolunteerGate } from './volunteerGate.ts';
import type { BundleInspection, ModelInspector } from './modelInspector.ts';
import { coordinatorPeerId } from './networkId.ts';
import { cryptoSecret } from './secrets.ts';
import { errorMessage } from '../protocol/errorMessage.ts';
import { truncate } from '../core/format.ts';
import { StorageWriteQueue } from './storageWriteQueue.ts';

const TICK_MS = 500;
/** Progress pushes to requesters and observers are throttled to this period. */
const BROADCAST_MS = 250;
/** [S-1] How soon after a lease change the `persist` batch is written (well under TICK_MS). */
const PERSIST_SOON_MS = 100;
/** [T-1] One telemetry frame per observer per period, whatever the network's size. */
export const TELEMETRY_MS = 500;
/** [K-6] How often a coordinator whose network id is taken tries to register it again. */
const ID_TAKEN_RETRY_MS = 3_000;
/** Time for a refusal to leave before its connection is closed. */
const CLOSE_DELAY_MS = 200;

/**
 * [S-3] What the coordinator page and log say while storage fails (README, errors table). The
 * reason comes first so the cause is plain; the rest says what the coordinator does and what to do.
 */
export function storageErrorMessage(reason: string): string {
  // Browser reasons (and our own) often end in a full stop; the sentence adds its own.
  return `Storage failed: ${reason.replace(/\.+$/, '')}. This coordinator takes no new jobs or leases, and counts no result as verified, until it can write again; results already received are kept in this tab. Free disk space or allow this site to store data, then press "Retry storage".`;
}

/**
 * The model's outputs, for checking every result against them. Every dtype is known here
 * ([J-4] refused the job otherwise); dims the runtime did not report are kept as unknown ([]).
 */
function outputSignatureOf(signature: SignatureLike): OutputPort[] {
  return signature.outputs.flatMap((o) => (o.dtype === null ? [] : [{ name: o.name, dtype: o.dtype, dims: o.dims ?? [] }]));
}

export interface CoordinatorHostOptions {
  readonly networkId: string;
  readonly factory: EndpointFactory;
  readonly store: CoordinatorStorage;
  readonly config?: Partial<Omit<CoordinatorConfig, 'networkId'>>;
  readonly now?: () => number;
  /**
   * [J-4] Loads every submitted model in this coordinator's own engine and checks the inputs
   * against its signature before admitting the job. Without one, only the size limits are checked.
   */
  readonly inspector?: ModelInspector;
  /** [J-4] This coordinator's job size limits (settable later with `setJobLimits`). */
  readonly jobLimits?: JobLimits;
  /** [K-1] The network's key (kept in IndexedDB by the app); absent: a fresh one for this host's life. */
  readonly identity?: CoordinatorIdentity;
  /** What the coordinator page shows; absent (Node, tests): kept in memory, readable as `view`. */
  readonly view?: ViewPort<CoordinatorView>;
  /** [K-1] Where the page shows this coordinator's key fingerprint; absent: kept in memory. */
  readonly keyTrust?: ViewPort<KeyTrustView>;
}

export class CoordinatorHost {
  readonly core: CoordinatorCore;
  private endpoint: Endpoint | null = null;
  private tickTimer: ReturnType<typeof setInterval> | null = null;
  private broadcastTimer: ReturnType<typeof setTimeout> | null = null;
  private telemetryTimer: ReturnType<typeof setInterval> | null = null;
  private telemetry = new TelemetryAggregator();
  /** [T-1] No observer at the last tick: the next one that has one starts a fresh aggregator. */
  private telemetryPaused = true;
  /** [S-3] Store writes, one after another in the order the core asked, kept while storage fails. */
  private readonly writes = new StorageWriteQueue({
    failed: (what, reason, first) => {
      if (first) this.log('error', `could not store ${what}: ${storageErrorMessage(reason)}`);
      this.apply(this.core.storageFailed(reason, this.now()));
    },
    recovered: () => {
      this.log('info', 'storage works again: every waiting write is stored');
      this.apply(this.core.storageRecovered(this.now()));
    },
    changed: () => this.showStorage(),
  });
  private readonly now: () => number;
  private jobLimits: JobLimits;
  /** [S-1] Armed by the first lease change after a `persist`; writes the batch PERSIST_SOON_MS later. */
  private persistTimer: ReturnType<typeof setTimeout> | null = null;
  /** [K-1] This coordinator's key; set by `start`. */
  private identity: CoordinatorIdentity | null = null;
  /** [K-3] Peers whose challenge was answered on their current connection: one proof each. */
  private readonly challenged = new Set<PeerId>();
  /** [I-2] [I-3] Volunteers' key proofs and result signatures, checked before the core sees them. */
  private readonly gate: VolunteerGate;
  /** [K-6] The network id was taken at the last try to register it. */
  private idTaken = false;
  private registerTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  /** What the coordinator page shows (state, jobs, peers, storage, log). */
  readonly view: ViewPort<CoordinatorView>;
  private readonly keyTrust: ViewPort<KeyTrustView>;

  constructor(private readonly options: CoordinatorHostOptions) {
    this.view = options.view ?? memoryViewPort(initialState.coordinator);
    this.keyTrust = options.keyTrust ?? memoryViewPort(initialState.keyTrust);
    this.now = options.now ?? (() => Date.now());
    this.jobLimits = options.jobLimits ?? DEFAULT_JOB_LIMITS;
    const seed = (this.now() ^ (Math.random() * 0x7fffffff)) >>> 0;
    this.core = new CoordinatorCore(
      // [S-2] A shard counts as verified only once its strict write is done.
      // [I-2] Ids belong to volunteers' keys, results count only signed ([I-3]): this host checks them.
      { ...DEFAULT_COORDINATOR_CONFIG, awaitDurableWrites: true, volunteerKeys: true, ...options.config, networkId: options.networkId },
      seededRng(seed),
      // [I-1] Resume tokens are secrets: 128 bits each from the platform's CSPRNG.
      cryptoSecret,
    );
    this.gate = new VolunteerGate({
      networkId: options.networkId,
      enabled: this.core.config.volunteerKeys === true,
      endpoint: () => this.endpoint,
      subject: (peer, result) => this.core.resultSubject(peer, result.leaseId, result.backend),
      newNonce: cryptoSecret,
      log: (level, text) => this.log(level, text),
    });
  }

  async start(): Promise<void> {
    this.view.patch({ state: 'starting', networkId: this.options.networkId, error: null });
    try {
      // [K-1] Tests and the bench may go without a stored key: a fresh one lasts as long as this host.
      this.identity = this.options.identity ?? (await identityOf(await generateCoordinatorKeyPair()));
    } catch (e) {
      const message = `The coordinator key could not be made: ${errorMessage(e)}`;
      this.view.patch({ state: 'error', error: message });
      this.log('error', message);
      return;
    }
    this.keyTrust.patch({ coordinatorFingerprint: this.identity.fingerprint });
    await this.restore();
    await this.register();
  }

  /**
   * Registers the network's well-known id. [K-6] An id that is taken (another tab, perhaps an
   * impostor that took it while this one was closed) is said so on the page and tried again every
   * ID_TAKEN_RETRY_MS, so this coordinator takes over as soon as the other is gone; its clients
   * never talked to the impostor, since it cannot prove this network's key.
   */
  private async register(): Promise<void> {
    if (this.stopped) return;
    const id = coordinatorPeerId(this.options.networkId);
    let endpoint: Endpoint;
    try {
      endpoint = await this.options.factory(id, {
        open: (peer) => {
          this.gate.forget(peer);
          this.apply(this.core.connect(peer, this.now()));
        },
        data: (peer, raw) => this.onData(peer, raw),
        // [P-8] Bytes of a frame still arriving are a sign of life: a big result on a slow link is not silence.
        progress: (peer) => this.core.heard(peer, this.now()),
        close: (peer) => {
          this.challenged.delete(peer);
          this.gate.forget(peer);
          this.apply(this.core.disconnect(peer, this.now()));
        },
        signaling: (state) => this.view.patch({ signaling: state }),
        error: (error) => this.log('warn', error.message),
      });
    } catch (e) {
      const message = errorMessage(e);
      if (e instanceof TransportError && e.kind === 'id-taken') {
        const first = !this.idTaken;
        this.idTaken = true;
        const shown = `Another tab holds this network's id "${id}" (the coordinator in another tab, or an impostor). Clients will not trust it: it cannot prove this network's key. Retrying every ${ID_TAKEN_RETRY_MS / 1000} s; this tab takes over as soon as the other is gone.`;
        this.view.patch({ state: 'error', error: shown });
        if (first) this.log('warn', shown);
        if (!this.stopped) this.registerTimer = setTimeout(() => void this.register(), ID_TAKEN_RETRY_MS);
        return;
      }
      this.view.patch({ state: 'error', error: message });
      this.log('error', message);
      return;
    }
    if (this.stopped) {
      endpoint.destroy();
      return;
    }
    if (this.idTaken) this.log('info', `the network id "${id}" is free again: this tab coordinates it`);
    this.idTaken = false;
    this.endpoint = endpoint;
    this.view.patch({ state: 'connected', peerId: endpoint.selfId, signaling: 'connected', error: null });
    this.log('info', `coordinating network "${this.options.networkId}" as ${endpoint.selfId}`);
    this.tickTimer = setInterval(() => this.apply(this.core.tick(this.now())), TICK_MS);
    this.telemetryTimer = setInterval(() => this.sendTelemetry(), TELEMETRY_MS);
    this.refresh();
  }

  stop(): void {
    this.stopped = true;
    if (this.registerTimer) clearTimeout(this.registerTimer);
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.writes.stop();
    if (this.broadcastTimer) clearTimeout(this.broadcastTimer);
    if (this.telemetryTimer) clearInterval(this.telemetryTimer);
    if (this.persistTimer) clearTimeout(this.persistTimer);
    this.persistTimer = null;
    this.endpoint?.destroy();
    this.endpoint = null;
  }

  /**
   * Stops serving and resolves once every write asked for is stored, leases not yet written
   * ([S-1]) included: what a coordinator process does on SIGTERM before it exits.
   */
  async shutdown(): Promise<void> {
    if (this.endpoint !== null) this.apply(this.core.persist(this.now()));
    this.stop();
    await this.flushWrites();
  }

  /** Resolves when every store write asked for so far has finished. */
  flushWrites(): Promise<void> {
    return this.writes.flushed();
  }

  /**
   * [S-1] Everything the coordinator knew before a reload: jobs and models, shards (outcomes and
   * replicas), volunteer ids (tokens, reputation, standing) and leases — those still before their
   * deadline stay valid, the others are retired and their shards offered again.
   */
  private async restore(): Promise<void> {
    const store = this.options.store;
    try {
      const jobs = await store.loadJobs();
      for (const { job } of jobs) {
        const model = await store.loadModel(job.modelHash);
        if (!model) {
          this.log('warn', `job ${job.id}: its model is missing from storage; not restored`);
          continue;
        }
        this.core.restoreJob(job, model);
        for (const s of await store.loadShards(job.id)) {
          this.core.restoreShard(job.id, s.index, s.status, s.accepted, s.disagreements, { replicas: s.replicas, epoch: s.epoch });
        }
      }
      const peers = await store.loadPeers();
      for (const p of peers) {
        this.core.restorePeer({
          peerId: p.peerId,
          token: p.token,
          reputation: p.reputation,
          standing: p.standing ?? { shardsAccepted: 0, resultsReturned: 0, resultsRejected: 0 },
        });
      }
      const now = this.now();
      const leases = await store.loadLeases();
      let live = 0;
      for (const l of leases) {
        this.core.restoreLease(l, now);
        if (!l.retired && l.deadlineMs > now) live++;
      }
      this.apply(this.core.settleRestored(now));
      if (jobs.length > 0) this.log('info', `restored ${jobs.length} job(s), ${peers.length} volunteer id(s) and ${live} live lease(s) from storage`);
    } catch (e) {
      this.log('error', `could not read stored jobs: ${errorMessage(e)}`);
      // "Retry storage" first checks that storage can be read at all.
      this.writes.fail('reading the stored jobs', e, () => store.loadJobs().then(() => undefined));
    }
  }

  private onData(peer: PeerId, raw: unknown): void {
    // [B-7] A refused peer's frames until its connection closes cost no parse either.
    if (this.core.ignores(peer)) return;
    const parsed = parseToCoordinator(raw);
    if (parsed.ok && parsed.msg.t === 'challenge') {
      this.onChallenge(peer, parsed.msg.nonce);
      return;
    }
    // [I-2] [I-3] A volunteer's hello and results reach the core with their signature checked.
    this.gate.admit(peer, parsed, (checked) => {
      if (this.core.ignores(peer)) return;
      const now = this.now();
      this.apply(parsed.ok ? this.core.handle(peer, parsed.msg, now, checked) : this.core.protocolError(peer, parsed.error, now));
      // [B-3] [B-9] Only a peer whose hello was taken may send messages over the pre-hello
      // allowance, and only as much as its role needs: observers send nothing but hello and ping
      // ([O-1]), volunteers results, requesters submissions.
      if (parsed.ok && (parsed.msg.t === 'hello' || parsed.msg.t === 'submit-job') && this.core.hasSaidHello(peer)) this.greet(peer);
    });
  }

  /**
   * [B-9] [B-12] The reassembly allowance of a greeted peer: a requester gets a submission's only
   * once it proved the requester key ([J-11], in its hello or an admitted submission); until then
   * it is held to a volunteer's, which leaves the submission share free ([B-10]) — so a peer that
   * merely says it is a requester can no longer keep an honest submission out.
   */
  private greet(peer: PeerId): void {
    const role = this.core.roleOf(peer);
    if (role === null) return;
    this.endpoint?.greeted(peer, role === 'requester' && !this.core.ownsJobs(peer) ? 'volunteer' : role);
  }

  /**
   * [J-12] The coordinator page rotated the requester key (stored first by the caller): the old
   * key stops submitting and reading at once, and the requesters that proved it lose their
   * submission allowance until they prove the new one ([B-12]).
   */
  rotateRequesterKey(key: string): void {
    const proven = this.core.watchers();
    this.apply(this.core.rotateRequesterKey(key, this.now()));
    for (const peer of proven) this.greet(peer);
  }

  /**
   * [K-3] A client asks this coordinator to prove its key on their connection. Answered once per
   * connection: a signature is cheap, but not free, and an honest client asks once.
   */
  private onChallenge(peer: PeerId, nonce: string): void {
    const endpoint = this.endpoint;
    const identity = this.identity;
    if (!endpoint || !identity) return;
    if (this.challenged.has(peer)) {
      this.log('warn', `${peer} sent a second challenge on one connection; ignored`);
      return;
    }
    this.challenged.add(peer);
    void answerChallenge(endpoint, identity, this.options.networkId, peer, nonce, this.gate.nonceFor(peer))
      .then((problem) => {
        if (problem !== null) this.log('warn', `could not prove this coordinator's key to ${peer}: ${problem}`);
      })
      .catch((e: unknown) => this.log('error', `signing a proof for ${peer} failed: ${errorMessage(e)}`));
  }

  private apply(effects: readonly CoordinatorEffect[]): void {
    for (const e of effects) {
      switch (e.kind) {
        case 'send':
          if (e.msg.t === 'job-results') this.sendWithReceipt(e.to, e.msg);
          else this.endpoint?.send(e.to, e.msg);
          break;
        case 'close':
          setTimeout(() => this.endpoint?.close(e.peer), CLOSE_DELAY_MS);
          break;
        case 'hash-model':
          void this.checkAndAdmit(e.peer, e.ref, e.spec).catch((err: unknown) => {
            this.log('error', `checking a submitted job failed: ${String(err)}`);
            this.rejectJob(e.peer, e.ref, e.spec.name, 'the coordinator failed while checking this job; try again');
          });
          break;
        case 'store-model':
          this.write(() => this.options.store.putModel(e.hash, e.bytes, this.now()), `model ${e.hash.slice(0, 12)}`);
          break;
        case 'store-job':
          this.write(() => this.options.store.putJob(e.job), `job ${e.job.id}`);
          break;
        case 'store-shard': {
          const { jobId, shard } = e;
          this.write(async () => {
            const epoch = await this.options.store.putShard(jobId, shard);
            // [S-2] Only now does this acceptance count as verified.
            this.apply(this.core.shardStored(jobId, shard.index, epoch));
          }, `shard ${shard.id}`);
          break;
        }
        case 'persist': {
          const batch = { leases: e.leases, forgetLeases: e.forgetLeases, peers: e.peers, openShards: e.openShards };
          this.write(() => this.options.store.persist(batch, this.now()), 'leases and volunteer ids');
          break;
        }
        case 'log':
          this.log(e.level, e.text);
          break;
        case 'status-changed':
          this.scheduleBroadcast();
          break;
      }
    }
    this.persistSoon();
  }

  /**
   * [AU-3] Results go out with a receipt signed now, over exactly the shards sent: signed when
   * asked rather than stored, so a shard re-verified since ([X-3]) is never vouched for by an
   * older receipt. Without a key or on a signing failure they go out without one, and say so.
   */
  private sendWithReceipt(to: PeerId, msg: Extract<FromCoordinator, { t: 'job-results' }>): void {
    const job = this.core.job(msg.jobId);
    if (!job || !this.identity) return void this.endpoint?.send(to, msg);
    void issueReceipt(this.identity, receiptJobOf(this.options.networkId, job, this.core.jobStatus(job)), msg.shards, this.now())
      .then((receipt) => this.endpoint?.send(to, receipt ? { ...msg, receipt } : msg))
      .catch((err: unknown) => {
        this.log('error', `signing the receipt of job ${msg.jobId} failed: ${errorMessage(err)}; its results go out without one`);
        this.endpoint?.send(to, msg);
      });
  }

  /**
   * [S-1] A lease change is written within PERSIST_SOON_MS instead of at the next tick: a reload
   * in between would otherwise forget a lease already sent, and its result would come back
   * `unknown-lease`. One timer per window, so a burst of leases is still one batch, one write.
   */
  private persistSoon(): void {
    // Not serving (restoring, or stopped): the tick's batch, or none, is soon enough.
    if (this.persistTimer !== null || this.endpoint === null || !this.core.hasUnsavedLeases()) return;
    this.persistTimer = setTimeout(() => {
      this.persistTimer = null;
      this.apply(this.core.persist(this.now()));
    }, PERSIST_SOON_MS);
  }

  /** [J-4] Applies to submissions from now on. */
  setJobLimits(limits: JobLimits): void {
    this.jobLimits = limits;
  }

  /**
   * [J-4] The host's half of [J-1]: this coordinator's size limits, then the model in its own
   * engine (is it ONNX, does it load) and the inputs against the model's real signature. The
   * hash comes from here too, never from the requester. Only then is the job admitted.
   */
  private async checkAndAdmit(peer: PeerId, ref: string, spec: JobSpec): Promise<void> {
    const { files, pipeline } = spec;
    const limitProblems =
      files && pipeline // [J-7]
        ? checkFileJobLimits(
            { modelBytes: spec.model.byteLength, fileBytes: files.map((f) => f.bytes.byteLength), pipeline, shardSize: spec.shardSize },
            this.jobLimits,
          )
        : checkJobLimits({ modelBytes: spec.model.byteLength, inputs: spec.inputs }, this.jobLimits);
    if (limitProblems.length > 0) return this.rejectJob(peer, ref, spec.name, limitProblems.join(' '));
    if (files && pipeline && pipelineNeedsBundle(pipeline)) return this.checkAndAdmitBundle(peer, ref, spec, pipeline);
    const inspector = this.options.inspector;
    if (!inspector) {
      this.apply(this.core.admitJob(peer, ref, spec, asModelHash(await sha256Hex(spec.model)), this.now()));
      return;
    }
    const inspection = await inspector.inspect(spec.model);
    if (!inspection.ok) return this.rejectJob(peer, ref, spec.name, inspection.reason);
    const problems = [
      ...(files && pipeline
        ? checkPipelineAgainstSignature(inspection.signature, pipeline, files.length, spec.shardSize) // [J-7]
        : checkInputsAgainstSignature(inspection.signature, spec.inputs, spec.shardSize)),
      ...checkShardOutputBudget(inspection.signature, spec.shardSize, files ? files.length : spec.inputs[0]?.dims[0]), // [J-5]
    ];
    if (problems.length > 0) return this.rejectJob(peer, ref, spec.name, problems.join(' '));
    this.apply(this.core.admitJob(peer, ref, spec, inspection.hash, this.now(), outputSignatureOf(inspection.signature)));
  }

  /**
   * [J-9] A pipeline that names its models inside an asset bundle (OCR, VAD): the bundle must
   * parse, hold every asset the pipeline names, and its models must load here like one sent
   * alone ([J-4]). Results are answers, checked by kind and count ([V-12]): no output signature.
   */
  private async checkAndAdmitBundle(peer: PeerId, ref: string, spec: JobSpec, pipeline: Pipeline): Promise<void> {
    if (!isAssetBundle(new Uint8Array(spec.model))) {
      return this.rejectJob(
        peer,
        ref,
        spec.name,
        "this pipeline names its models by hash, so they must come in an asset bundle sent as the job's model (the dashboard builds it).",
      );
    }
    const inspector = this.options.inspector;
    let inspection: BundleInspection;
    const dictionaries = new Set(pipelineDictionaries(pipeline));
    if (inspector) inspection = await inspector.inspectBundle(spec.model, new Set(pipelineModels(pipeline).filter((h) => !dictionaries.has(h))));
    else {
      try {
        const entries = await hashedAssets(new Uint8Array(spec.model));
        inspection = { ok: true, hash: asModelHash(await sha256Hex(spec.model)), entries: entries.map((e) => ({ name: e.name, hash: e.hash })) };
      } catch (e) {
        inspection = { ok: false, reason: `the asset bundle is malformed: ${errorMessage(e)}` };
      }
    }
    if (!inspection.ok) return this.rejectJob(peer, ref, spec.name, inspection.reason);
    const missing = bundleAssetsProblem(pipeline, inspection.entries);
    if (missing !== null) return this.rejectJob(peer, ref, spec.name, missing);
    this.apply(this.core.admitJob(peer, ref, spec, inspection.hash, this.now()));
  }

  private rejectJob(peer: PeerId, ref: string, name: string, reason: string): void {
    const text = truncate(reason, LIMITS.maxReasonLength);
    this.log('warn', `job "${name}" from ${peer} refused: ${reason}`);
    this.endpoint?.send(peer, { v: PROTOCOL_VERSION, t: 'job-rejected', ref, reason: text });
  }

  /** [S-3] In call order (several in flight over a store that orders them, [N-7]); kept, in order, while storage fails (StorageWriteQueue). */
  private write(op: () => Promise<void>, what: string): void {
    this.writes.write(op, what, this.options.store.ordersWrites === true);
  }

  /** [S-3] Writes everything that waited, in order ("Retry storage"). True when storage works again. */
  retryStorage(): Promise<boolean> {
    return this.writes.retry();
  }

  private showStorage(): void {
    this.view.patch((prev) => ({
      storage: {
        ...prev.storage,
        error: this.writes.problem === null ? null : storageErrorMessage(this.writes.problem),
        pendingWrites: this.writes.pendingWrites,
      },
    }));
  }

  private scheduleBroadcast(): void {
    if (this.broadcastTimer) return;
    this.broadcastTimer = setTimeout(() => {
      this.broadcastTimer = null;
      this.refresh();
    }, BROADCAST_MS);
  }

  /**
   * Updates this page and tells requesters how jobs stand (observers get telemetry, [T-1]).
   * [T-6] Requesters get no `network` frame: none reads it, and every peer's summary in it made it
   * grow with the network (47 KB at 400 volunteers, up to 4 a second to each requester: the scale
   * bench, BENCHMARKS.md).
   */
  private refresh(): void {
    const jobs = this.core.jobStatuses();
    const peers = this.core.peerSummaries();
    this.view.patch({ jobs, peers, activeLeases: this.core.activeLeaseCount() });
    if (!this.endpoint) return;
    for (const w of this.core.watchers()) this.endpoint.send(w, { v: PROTOCOL_VERSION, t: 'job-status', jobs });
  }

  /**
   * [T-1] Ticks the aggregator while an observer is connected (every tick, so every frame's flows
   * cover exactly one period) and sends the frame to each observer. With no observer nothing is
   * sampled: a sample reads and sorts every peer, twice a second, for nobody. The first tick after
   * that starts a fresh aggregator, so its frame is every peer's baseline ([T-3]), not the flows of
   * a period that no frame covered.
   */
  private sendTelemetry(): void {
    const observers = this.endpoint ? this.core.observers() : [];
    if (observers.length === 0) {
      this.telemetryPaused = true;
      return;
    }
    if (this.telemetryPaused) {
      this.telemetry = new TelemetryAggregator();
      this.telemetryPaused = false;
    }
    const frame = this.telemetry.tick(
      { peers: this.core.peerSamples(), jobs: this.core.jobStatuses(), backendPairs: this.core.backendAgreement() },
      this.now(),
    );
    for (const o of observers) this.endpoint?.send(o, frame);
  }

  private log(level: 'info' | 'warn' | 'error', text: string): void {
    if (level === 'error') console.error(`[coordinator] ${text}`);
    else if (level !== 'info') console.warn(`[coordinator] ${text}`);
    this.view.patch((prev) => ({ log: appendLog(prev.log, { atMs: this.now(), level, text }) }));
  }
}
