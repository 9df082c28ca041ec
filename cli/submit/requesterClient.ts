/**
 * A requester without a page: the dashboard's link to the coordinator (CoordinatorLink, the key
 * proof checked by a CoordinatorTrust before anything is sent) and its conversation (hello,
 * submit-job, job-status, results-request), with no store behind it. Whoever holds it is told
 * what the coordinator says through `events` and decides what to do; `quorum submit` and
 * `quorum results` both follow a job through it.
 */
import { CoordinatorLink } from '../../src/host/coordinatorLink.ts';
import type { CoordinatorTrust } from '../../src/host/coordinatorTrust.ts';
import { coordinatorPeerId } from '../../src/host/networkId.ts';
import type { KeyAlarm } from '../../src/protocol/coordinatorProof.ts';
import type { JobId } from '../../src/protocol/ids.ts';
import { PROTOCOL_VERSION, type JobSpec, type JobStatus, type VerifiedShard } from '../../src/protocol/messages.ts';
import { parseToCoordinator } from '../../src/protocol/parse.ts';
import type { EndpointFactory } from '../../src/transport/transport.ts';

export interface RequesterClientEvents {
  /** The coordinator proved its key and welcomed this requester (again, after a reconnect). */
  connected(): void;
  /** The link is down or not up yet; `detail` says what it is doing. */
  connecting(detail: string): void;
  accepted(ref: string, jobId: JobId, shards: number): void;
  /** [J-1] The coordinator (or its parser, run here first) refused a submission. */
  rejected(ref: string, reason: string): void;
  /** The coordinator closed this connection and said why (wrong version, a bad hello). */
  refused(reason: string): void;
  status(jobs: readonly JobStatus[]): void;
  results(jobId: JobId, shards: readonly VerifiedShard[], itemNames: readonly string[] | undefined): void;
  /** [K-4] The coordinator's id is held by a key this requester does not trust. */
  untrusted(alarm: KeyAlarm): void;
  warn(text: string): void;
}

export class RequesterClient {
  private readonly link: CoordinatorLink;
  private refs = 0;

  constructor(factory: EndpointFactory, trust: CoordinatorTrust, events: RequesterClientEvents, label = 'quorum submit') {
    this.link = new CoordinatorLink(
      factory,
      coordinatorPeerId(trust.networkId),
      {
        open: () => this.link.send({ v: PROTOCOL_VERSION, t: 'hello', role: 'requester', caps: null, label }),
        frame: (msg) => {
          switch (msg.t) {
            case 'welcome':
              events.connected();
              break;
            case 'refused':
              events.refused(msg.reason);
              break;
            case 'job-accepted':
              events.accepted(msg.ref, msg.jobId, msg.shards);
              break;
            case 'job-rejected':
              events.rejected(msg.ref, msg.reason);
              break;
            case 'job-status':
              events.status(msg.jobs);
              break;
            case 'job-results':
              events.results(msg.jobId, msg.shards, msg.itemNames);
              break;
            default:
              break;
          }
        },
        protocolError: (error) => events.warn(`dropped a frame from the coordinator: ${error.reason}`),
        close: () => events.connecting('lost the coordinator; reconnecting'),
        status: (state, detail) => {
          if (state === 'connecting') events.connecting(detail);
        },
        untrusted: (alarm) => events.untrusted(alarm),
      },
      { trust },
    );
  }

  start(): void {
    this.link.start();
  }

  stop(): void {
    this.link.stop();
  }

  /**
   * Sends a job; returns its submission ref, or null when it was refused at once (`rejected` has
   * been called with the reason): the coordinator's own parser runs here first, so a job it would
   * drop is not uploaded.
   */
  submit(spec: JobSpec, rejected: (reason: string) => void): string | null {
    const ref = `cli${(++this.refs).toString(36)}`;
    const frame = { v: PROTOCOL_VERSION, t: 'submit-job', ref, spec } as const;
    const check = parseToCoordinator(frame);
    if (!check.ok) {
      rejected(check.error.reason);
      return null;
    }
    if (!this.link.send(frame)) {
      rejected('not connected to the coordinator: wait for "connected" and submit again');
      return null;
    }
    return ref;
  }

  /** Asks for every shard of `jobId` verified so far; false when the link is down. */
  requestResults(jobId: JobId): boolean {
    return this.link.send({ v: PROTOCOL_VERSION, t: 'results-request', jobId });
  }
}
