/**
 * [E-3] The coordinator page's WebRTC connection budget: how many this tab has left, and, from
 * 80 % on, what the operator should do before the browser starts refusing volunteers.
 */
import type { BudgetStatus } from '../core/connectionBudget.ts';

export function ConnectionBudget({ budget, pageUrl }: { budget: BudgetStatus; pageUrl: string }) {
  const { used, limit, left, level } = budget;
  return (
    <>
      <p>
        WebRTC connections:{' '}
        <span data-testid="connection-budget" data-level={level} data-left={left}>
          {used} of {limit} used, {left} left
        </span>{' '}
        <span className="muted">(a browser tab may make {limit} in its whole life, every volunteer, dashboard, map and reconnect included)</span>
      </p>
      {level === 'ok' ? null : (
        <div role="alert" className={`badge ${level === 'spent' ? 'badge-error' : 'badge-connecting'}`} data-testid="connection-budget-warning">
          <p>
            {level === 'spent'
              ? `This tab has used all ${limit} of its WebRTC connections: the browser refuses every new volunteer, dashboard or map, and every reconnect.`
              : `This tab has only ${left} of its ${limit} WebRTC connections left; after that the browser refuses every new volunteer and reconnect, and a reload does not give them back.`}
          </p>
          <p>
            Move the coordinator to a fresh window: open <a href={pageUrl}>{pageUrl}</a> in a new window, then close this tab. Its jobs, results and key are
            kept in this browser&apos;s storage (IndexedDB), and the new tab takes over as soon as this one is closed. For networks bigger than one tab can
            serve, run the headless coordinator: <code>npx quorum coordinator</code>.
          </p>
        </div>
      )}
    </>
  );
}
