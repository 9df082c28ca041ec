/**
 * [S-3] The coordinator host's store writes, apart from the host so that they can be tested on
 * their own: they run one after another, in the order the core asked for them, and a write that
 * fails is kept, with every write after it, until storage works again — nothing is dropped, and
 * the order (a lease put before its forget) holds. Waiting writes are tried again every
 * `retryMs` and on `retry` ("Retry storage"); when all are written, storage has recovered.
 * Over a store that orders its writes itself ([N-7]), several may be in flight at once.
 */
import { errorMessage } from '../protocol/errorMessage.ts';

/** [S-3] A storage error in words: a full quota is named as such. */
export function describeStorageError(err: unknown): string {
  const name = err instanceof Error || (typeof DOMException !== 'undefined' && err instanceof DOMException) ? (err as Error).name : '';
  const text = errorMessage(err);
  if (name === 'QuotaExceededError' || /quota/i.test(text)) return `the browser's storage quota for this site is used up (QuotaExceededError)`;
  return text || name || 'unknown error';
}

export interface WriteQueueEvents {
  /**
   * Storage failed while it was thought to work (`first`), or again at the start; `reason` in
   * words. The host stops new work and says so; writes from now on wait.
   */
  failed(what: string, reason: string, first: boolean): void;
  /** Every waiting write is stored: storage works again. */
  recovered(): void;
  /** The problem or the number of waiting writes changed (what the page shows). */
  changed(): void;
}

interface PendingWrite {
  readonly what: string;
  readonly op: () => Promise<void>;
  /** Its place in call order: writes that failed in flight are kept in this order ([N-7]). */
  readonly at: number;
}

/** [S-3] How often waiting writes are tried again while storage fails. */
export const STORAGE_RETRY_MS = 10_000;

export class StorageWriteQueue {
  /** The chain every write and retry runs on, one after another. */
  private writes: Promise<void> = Promise.resolve();
  /** Why storage fails (null while it works), and the writes waiting for it, in order. */
  private reason: string | null = null;
  private pending: PendingWrite[] = [];
  private retrying: Promise<boolean> | null = null;
  private retryTimer: ReturnType<typeof setInterval> | null = null;
  /** How many writes were asked for: the next one's place in call order. */
  private asked = 0;

  constructor(
    private readonly events: WriteQueueEvents,
    private readonly retryMs: number = STORAGE_RETRY_MS,
  ) {}

  /** Why storage fails, in words; null while it works. */
  get problem(): string | null {
    return this.reason;
  }

  /** Writes waiting for storage to work again. */
  get pendingWrites(): number {
    return this.pending.length;
  }

  /** Resolves when every write asked for so far has finished (or is waiting for storage). */
  flushed(): Promise<void> {
    return this.writes;
  }

  /**
   * Runs `op` after every write asked before it; while storage fails, it waits behind them.
   * `inFlight` ([N-7]): for a store that keeps call order itself, and fails every write issued
   * before its caller could know of an earlier failure, `op` starts now, beside the writes not
   * finished yet, so that the store can commit them together; those that fail wait in call order.
   */
  write(op: () => Promise<void>, what: string, inFlight = false): void {
    const at = this.asked++;
    if (this.reason !== null) {
      this.wait({ op, what, at });
      return;
    }
    if (inFlight && this.retrying === null) {
      // A store method that throws at the call fails like one that rejects.
      const done = new Promise<void>((resolve) => resolve(op())).catch((err: unknown) => {
        if (this.reason === null) {
          this.keep({ op, what, at });
          this.fail(what, err);
        } else this.wait({ op, what, at });
      });
      this.writes = Promise.all([this.writes, done]).then(() => undefined);
      return;
    }
    this.writes = this.writes.then(async () => {
      if (this.reason !== null) {
        this.wait({ op, what, at });
        return;
      }
      try {
        await op();
      } catch (err) {
        this.keep({ op, what, at });
        this.fail(what, err);
      }
    });
  }

  /**
   * Storage failed outside a write (e.g. reading it at start): writes wait from now on, and
   * `check`, when given, must pass first when they are tried again.
   */
  fail(what: string, err: unknown, check?: () => Promise<void>): void {
    if (check) this.pending.unshift({ what: 'a storage check', op: check, at: -1 });
    const first = this.reason === null;
    this.reason = describeStorageError(err);
    this.events.changed();
    this.events.failed(what, this.reason, first);
    this.retryTimer ??= setInterval(() => void this.retry(), this.retryMs);
  }

  /**
   * Writes everything that waited, in order. True when storage works again. A write that fails
   * again keeps its place at the front.
   */
  retry(): Promise<boolean> {
    this.retrying ??= this.writes
      .then(async () => {
        while (this.pending.length > 0) {
          const next = this.pending[0] as PendingWrite;
          try {
            await next.op();
          } catch (err) {
            this.reason = describeStorageError(err);
            this.events.changed();
            return false;
          }
          this.pending.shift();
          this.events.changed();
        }
        if (this.reason !== null) {
          this.reason = null;
          this.stopTimer();
          this.events.changed();
          this.events.recovered();
        }
        return true;
      })
      .finally(() => {
        this.retrying = null;
      });
    this.writes = this.retrying.then(() => undefined);
    return this.retrying;
  }

  /** Stops the retry timer (the host stops); waiting writes stay for `retry`. */
  stop(): void {
    this.stopTimer();
  }

  private wait(write: PendingWrite): void {
    this.keep(write);
    this.events.changed();
  }

  /** Keeps `write` among the waiting ones in call order: one that failed in flight may settle after a later one waited. */
  private keep(write: PendingWrite): void {
    const after = this.pending.findIndex((p) => p.at > write.at);
    if (after < 0) this.pending.push(write);
    else this.pending.splice(after, 0, write);
  }

  private stopTimer(): void {
    if (this.retryTimer) clearInterval(this.retryTimer);
    this.retryTimer = null;
  }
}
