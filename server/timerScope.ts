/**
 * peer 1.0.2 starts two self-rescheduling timers per PeerServer (message expiry every
 * `cleanup_out_msgs` ms, dead-connection check every 300 ms) and exposes no way to stop them, so
 * a detached PeerServer would keep ticking and keep the process alive forever.
 *
 * A TimerScope records every setTimeout made synchronously inside `run()`, and inside the
 * callbacks of the timers it recorded (that is how those timers re-arm), unrefs them, and clears
 * them all on `dispose()`. `globalThis.setTimeout` is swapped only for the duration of those
 * synchronous calls, never permanently.
 */
type TimerCallback = (...args: unknown[]) => void;
type SetTimeoutLike = (callback: TimerCallback, ms?: number, ...args: unknown[]) => NodeJS.Timeout;

export interface TimerScope {
  run<T>(fn: () => T): T;
  /** Timers currently pending in this scope. */
  readonly pending: number;
  dispose(): void;
}

export function createTimerScope(): TimerScope {
  const live = new Set<NodeJS.Timeout>();
  let disposed = false;

  function run<T>(fn: () => T): T {
    const previous = globalThis.setTimeout as unknown as SetTimeoutLike;
    const scoped: SetTimeoutLike = (callback, ms, ...args) => {
      if (disposed) {
        // Nothing in a disposed scope may re-arm; hand back an inert, already-cleared timer.
        const inert = previous(() => undefined, 0);
        clearTimeout(inert);
        return inert;
      }
      const handle: NodeJS.Timeout = previous(
        (...cbArgs: unknown[]) => {
          live.delete(handle);
          if (!disposed) run(() => callback(...cbArgs));
        },
        ms,
        ...args,
      );
      handle.unref();
      live.add(handle);
      return handle;
    };
    globalThis.setTimeout = scoped as unknown as typeof setTimeout;
    try {
      return fn();
    } finally {
      globalThis.setTimeout = previous as unknown as typeof setTimeout;
    }
  }

  return {
    run,
    get pending() {
      return live.size;
    },
    dispose() {
      disposed = true;
      for (const handle of live) clearTimeout(handle);
      live.clear();
    },
  };
}
