/**
 * The key proofs ([K-2] [K-3]) that link tests start and have not seen finish. WebCrypto signs
 * and verifies on Node's thread pool, in real time, whatever a fake clock says: a test that
 * advances fake time must wait for these to finish, not for a few real milliseconds that a
 * loaded machine may not honour.
 */
export class InFlight {
  private readonly pending = new Set<Promise<unknown>>();

  /** Records `work` until it settles; returns it unchanged. */
  track<T>(work: Promise<T>): Promise<T> {
    this.pending.add(work);
    const done = (): void => {
      this.pending.delete(work);
    };
    work.then(done, done);
    return work;
  }

  /** How many tracked promises have not settled yet. */
  size(): number {
    return this.pending.size;
  }

  /** Resolves once nothing tracked is pending, including work started while waiting. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}

/**
 * Every proof signed by a `provingCoordinator` and every proof checked by a `memoryTrust`. One
 * per test file: vitest gives each file its own modules.
 */
export const cryptoInFlight = new InFlight();
