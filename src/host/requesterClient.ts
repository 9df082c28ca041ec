/**
 * A requester's conversation with its coordinator, without a page: the link (CoordinatorLink, the
 * coordinator's key proved before anything is sent, [K-2]), the hello, a job's submission checked
 * by the coordinator's own parser first ([J-1]), and the frames a requester acts on, handed to
 * `events`. The dashboard (RequesterHost, into the store) and `quorum submit` / `quorum results`
 * (into the terminal and a folder) both speak through it.
 */
import type { KeyAlarm } from '../protocol/coordinatorProof.ts';
import type { SignedReceipt } from '../protocol/receipt.ts';
import type { JobId } from '../protocol/ids.ts';
import { PROTOCOL_VERSION, type JobSpec, type JobStatus, type ToCoordinator, type VerifiedShard } from '../protocol/messages.ts';
import { parseToCoordinator } from '../protocol/parse.ts';
import type { EndpointFactory } from '../transport/transport.ts';
import { CoordinatorLink } from './coordinatorLink.ts';
import type { LinkTrust } from './coordinatorTrust.ts';
import { coordinatorPeerId } from './networkId.ts';

export interface RequesterClientEvents {
  /** The coordinator proved its key and welcomed this requester (again, after a reconnect). */
  welcome(networkId: string): void;
  /** The coordinator closed this connection and said why (wrong version, a bad hello). */
  refused(reason: string): void;
  accepted(ref: string, jobId: JobId, shards: number): void;
  rejected(ref: string, reason: string): void;
  /** [J-13] A submission could not be sent: no connection to the coordinator within the wait. */
  unsent(ref: string, reason: string): void;
  /** [J-13] A submission that waited for a connection was sent on the one that opened. */
  sentLate?(ref: string, name: string): void;
  status(jobs: readonly JobStatus[]): void;
  /** `receipt`: [AU-3] the coordinator's signed receipt over exactly these shards, when it sent one. */
  results(jobId: JobId, shards: readonly VerifiedShard[], itemNames: readonly string[] | undefined, receipt: SignedReceipt | undefined): void;
  /** What the link is doing now, in words. */
  linkState(state: 'connecting' | 'connected', detail: string): void;
  /** The connection to the coordinator was lost; the link reconnects by itself. */
  lost(): void;
  protocolError(reason: string): void;
  /** [K-4] The coordinator's id is held by a key this requester does not trust. */
  untrusted(alarm: KeyAlarm): void;
  /** [K-4] The coordinator proved the key this requester trusts. */
  verified?(fingerprint: string, firstUse: boolean): void;
}

/** `waiting`: no connection now; the submission is sent once one opens ([J-13]). */
export type SubmitOutcome = { readonly ok: true; readonly waiting: boolean } | { readonly ok: false; readonly reason: string };

/** A submission frame not yet answered with `job-accepted` or `job-rejected`. */
interface Unanswered {
  readonly frame: Extract<ToCoordinator, { t: 'submit-job' }>;
  /** Set while it waits for a connection: fails the submission when it fires. */
  giveUp: ReturnType<typeof setTimeout> | null;
}

/** [J-13] How long a submission waits for a connection to the coordinator before it fails. */
const SUBMIT_WAIT_MS = 60_000;

export class RequesterClient {
  private readonly link: CoordinatorLink;
  /** [J-11] The key this connection's last hello proved ('' for none). */
  private helloKey = '';
  /** The coordinator proved its key on the open connection ([K-2]): a hello may carry ours. */
  private proven = false;
  /**
   * [J-13] Submissions sent or waiting to be, by ref in the order made, until the coordinator
   * answers. A connection that closes before the answer may have lost the frame (the coordinator
   * never saw it): each is sent again on the next connection, so none stays at "sending" for good.
   */
  private readonly unanswered = new Map<string, Unanswered>();

  /**
   * `requesterKey`: [J-11] the requester key held for the network, read when the link opens: the
   * hello proves it, so the coordinator sends this requester its jobs' status and results. Empty:
   * it proves nothing and reads nothing.
   */
  constructor(
    factory: EndpointFactory,
    trust: LinkTrust,
    private readonly events: RequesterClientEvents,
    private readonly label: string,
    requesterKey: () => string = () => '',
    private readonly submitWaitMs: number = SUBMIT_WAIT_MS,
  ) {
    this.link = new CoordinatorLink(
      factory,
      coordinatorPeerId(trust.networkId),
      {
        // [K-2] `open` fires only once the coordinator proved the network's key on this
        // connection, so the requester key in the hello never reaches an impostor.
        open: () => {
          this.proven = true;
          this.hello(requesterKey());
          this.sendUnanswered();
        },
        frame: (msg) => {
          switch (msg.t) {
            case 'welcome':
              events.welcome(msg.networkId);
              break;
            case 'refused':
              events.refused(msg.reason);
              break;
            case 'job-accepted':
              this.answered(msg.ref);
              events.accepted(msg.ref, msg.jobId, msg.shards);
              break;
            case 'job-rejected':
              this.answered(msg.ref);
              events.rejected(msg.ref, msg.reason);
              break;
            case 'job-status':
              events.status(msg.jobs);
              break;
            case 'job-results':
              events.results(msg.jobId, msg.shards, msg.itemNames, msg.receipt);
              break;
            default:
              break;
          }
        },
        protocolError: (error) => events.protocolError(error.reason),
        close: () => {
          this.proven = false;
          for (const [ref, u] of this.unanswered) this.awaitConnection(ref, u);
          events.lost();
        },
        status: (state, detail) => events.linkState(state, detail),
        untrusted: (alarm) => events.untrusted(alarm),
        ...(events.verified ? { verified: events.verified } : {}),
      },
      { trust },
    );
  }

  start(): void {
    this.link.start();
  }

  stop(): void {
    this.link.stop();
    for (const u of this.unanswered.values()) if (u.giveUp) clearTimeout(u.giveUp);
    this.unanswered.clear();
  }

  /** [J-13] Sends every unanswered submission, in the order made, on the connection just opened. */
  private sendUnanswered(): void {
    for (const [ref, u] of this.unanswered) {
      if (!this.link.send(u.frame)) return; // closed again at once: its close handler re-arms the waits
      if (u.giveUp) {
        clearTimeout(u.giveUp);
        u.giveUp = null;
        this.events.sentLate?.(ref, u.frame.spec.name);
      }
    }
  }

  /** [J-13] No connection now: the submission waits for the next one, or fails after `submitWaitMs`. */
  private awaitConnection(ref: string, u: Unanswered): void {
    if (u.giveUp) return;
    const waitMs = this.submitWaitMs;
    u.giveUp = setTimeout(() => {
      if (this.unanswered.get(ref) !== u) return;
      this.unanswered.delete(ref);
      this.events.unsent(
        ref,
        `could not reach the coordinator for ${Math.round(waitMs / 1000)} s to send this job: check that the coordinator is running and connected, then submit again`,
      );
    }, waitMs);
  }

  private answered(ref: string): void {
    const u = this.unanswered.get(ref);
    if (u?.giveUp) clearTimeout(u.giveUp);
    this.unanswered.delete(ref);
  }

  /** [J-11] Says hello, proving `key` when there is one; a new hello on an open link replaces the proof. */
  private hello(key: string): boolean {
    this.helloKey = key;
    const frame = { v: PROTOCOL_VERSION, t: 'hello', role: 'requester', caps: null, label: this.label } as const;
    return this.link.send(key === '' ? frame : { ...frame, requesterKey: key });
  }

  /**
   * Sends a job under the requester's own `ref`. [J-1] The coordinator's own parser runs here
   * first: a job it would drop (a tensor over the protocol's limit, say) is refused at once, with
   * its reason, instead of being uploaded.
   */
  submit(ref: string, spec: JobSpec): SubmitOutcome {
    const frame = { v: PROTOCOL_VERSION, t: 'submit-job', ref, spec } as const;
    const check = parseToCoordinator(frame);
    if (!check.ok) return { ok: false, reason: check.error.reason };
    // [J-11] A key other than the one this connection proved (typed into the form just now) is
    // proved first, in a new hello on the same ordered channel: the coordinator then sends this
    // requester the job's progress and results, and gives it a submission's allowance ([B-12]).
    if (this.proven && spec.requesterKey !== '' && spec.requesterKey !== this.helloKey) this.hello(spec.requesterKey);
    const waiting: Unanswered = { frame, giveUp: null };
    this.unanswered.set(ref, waiting);
    if (this.proven && this.link.send(frame)) return { ok: true, waiting: false };
    this.awaitConnection(ref, waiting);
    return { ok: true, waiting: true };
  }

  /** Asks for every shard of `jobId` verified so far; false when the link is down. */
  requestResults(jobId: JobId): boolean {
    return this.link.send({ v: PROTOCOL_VERSION, t: 'results-request', jobId });
  }
}
