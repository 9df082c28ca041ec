/// <reference types="vite/client" />
/**
 * [E-1] [E-2] This page's RTCPeerConnections, counted as Chromium counts them: every construction,
 * closed or failed ones included, for the page's whole lifetime.
 *
 * What "page lifetime" means here: Chromium keeps the count per renderer process, so a reload
 * (or any navigation within the tab that keeps its process) does not reset it, and a new tab
 * starts afresh. The nearest thing a page can keep is its tab's `sessionStorage`: it survives
 * reloads and in-tab navigations on this origin and is empty in a new tab. A duplicated tab
 * copies it and so over-counts, which errs on the safe side. What no page can see: Chromium may
 * put two same-site tabs in one process; the early warning ([E-3]) leaves room for that.
 *
 * The page's `RTCPeerConnection` is replaced by a counting wrapper when this module loads, before
 * peerjs (which constructs one for its feature check as it loads: a reload costs one too). Past
 * the limit the wrapper throws the browser's own error, so a limit lowered by the test hook
 * behaves as the real one does at 500.
 */
import { budgetStatus, PAGE_PEER_CONNECTION_BUDGET, parseLimitOverride, parseStoredCount, type BudgetStatus } from '../core/connectionBudget.ts';

/** The tab-lifetime store the count lives in: `sessionStorage` in a page. */
export interface CountStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

const COUNT_KEY = 'quorum.rtcPeerConnections';
const LIMIT_KEY = 'quorum.rtcPeerConnectionLimit';

export interface PageConnections {
  status(): BudgetStatus;
  /** False once the page has no construction left: a dial would only throw. */
  canConstruct(): boolean;
  /** [E-1] Test builds: lowers the limit for this tab (kept across reloads, as the count is). */
  lowerLimit(limit: number): void;
  /** Called with the new status after every construction (and limit change); returns how to stop. */
  subscribe(listener: (status: BudgetStatus) => void): () => void;
  /** Wraps a constructor so that every `new` is counted and, past the limit, refused. */
  wrap<C extends abstract new (...args: never[]) => object>(ctor: C): C;
}

/**
 * A counter over `store`. `allowOverride`: whether a lowered limit found in the store applies
 * (test builds only; a production page always has the browser's 500).
 */
export function createPageConnections(store: CountStore | null, allowOverride: boolean): PageConnections {
  const read = (key: string): string | null => {
    try {
      return store?.getItem(key) ?? null;
    } catch {
      return null; // storage denied: count from memory alone
    }
  };
  const write = (key: string, value: string): void => {
    try {
      store?.setItem(key, value);
    } catch {
      // Storage full or denied: the count still holds for this load.
    }
  };
  let used = parseStoredCount(read(COUNT_KEY));
  let limit = (allowOverride ? parseLimitOverride(read(LIMIT_KEY)) : null) ?? PAGE_PEER_CONNECTION_BUDGET;
  const listeners = new Set<(status: BudgetStatus) => void>();
  const status = (): BudgetStatus => budgetStatus(used, limit);
  const tell = (): void => {
    const s = status();
    for (const l of listeners) l(s);
  };
  return {
    status,
    canConstruct: () => used < limit,
    lowerLimit(n) {
      const parsed = parseLimitOverride(String(n));
      if (!allowOverride || parsed === null) return;
      limit = parsed;
      write(LIMIT_KEY, String(parsed));
      tell();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    wrap(ctor) {
      return new Proxy(ctor, {
        construct(target, args, newTarget) {
          if (used >= limit) {
            // What Chromium throws for the 501st; peerjs reports it as a failed connection.
            throw new DOMException("Failed to construct 'RTCPeerConnection': Cannot create so many PeerConnections", 'UnknownError');
          }
          used++;
          write(COUNT_KEY, String(used));
          const made = Reflect.construct(target, args, newTarget) as object;
          tell();
          return made;
        },
      });
    },
  };
}

function tabStore(): CountStore | null {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null;
  }
}

/** This page's counter; its wrapper is in place from the moment this module has loaded. */
export const pageConnections = createPageConnections(tabStore(), import.meta.env.MODE === 'test');

if (typeof globalThis.RTCPeerConnection === 'function') {
  globalThis.RTCPeerConnection = pageConnections.wrap(globalThis.RTCPeerConnection);
}
