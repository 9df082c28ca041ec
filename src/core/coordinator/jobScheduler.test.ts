import { describe, expect, it } from 'vitest';
import { seededRng } from '../rng.ts';
import { JobScheduler, normalisePriority, type SchedulingCandidate } from './jobScheduler.ts';

type C = SchedulingCandidate;

function run(s: JobScheduler, candidates: readonly C[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const c = s.pick(candidates)!;
    counts.set(c.id, (counts.get(c.id) ?? 0) + 1);
  }
  return counts;
}

describe('JobScheduler: leases in proportion to priority', () => {
  it('priorities 3 and 1 share 3:1, in every window of 4 leases', () => {
    const s = new JobScheduler();
    const jobs = [
      { id: 'a', priority: 3 },
      { id: 'b', priority: 1 },
    ];
    const order = Array.from({ length: 40 }, () => s.pick(jobs)!.id);
    for (let i = 0; i + 4 <= order.length; i += 4) {
      expect(order.slice(i, i + 4).filter((id) => id === 'a')).toHaveLength(3);
    }
  });
  it('equal priorities alternate, oldest first', () => {
    const s = new JobScheduler();
    const jobs = [
      { id: 'old', priority: 1 },
      { id: 'new', priority: 1 },
    ];
    expect(Array.from({ length: 6 }, () => s.pick(jobs)!.id)).toEqual(['old', 'new', 'old', 'new', 'old', 'new']);
  });
  it('random priorities 1..10: every job within 1 lease per job of its exact share (seeded)', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const rng = seededRng(seed);
      const k = 2 + Math.floor(rng.next() * 5);
      const jobs = Array.from({ length: k }, (_, i) => ({ id: `j${i}`, priority: 1 + Math.floor(rng.next() * 10) }));
      const total = jobs.reduce((n, j) => n + j.priority, 0);
      const n = 50 + Math.floor(rng.next() * 500);
      const counts = run(new JobScheduler(), jobs, n);
      for (const j of jobs) {
        const share = (n * j.priority) / total;
        expect(Math.abs((counts.get(j.id) ?? 0) - share), `seed ${seed}, job ${j.id}`).toBeLessThanOrEqual(k);
      }
    }
  });
  it('a job with no work is skipped, and the others share what is left', () => {
    const s = new JobScheduler();
    const a = { id: 'a', priority: 5 };
    const b = { id: 'b', priority: 1 };
    expect(run(s, [b], 10).get('b')).toBe(10);
    expect(s.pick([])).toBeNull();
    expect(run(s, [a, b], 60).get('a')).toBeGreaterThanOrEqual(49);
  });
  it('a new or returning job earns no credit for the time it had no work', () => {
    const s = new JobScheduler();
    const a = { id: 'a', priority: 1 };
    const b = { id: 'b', priority: 1 };
    run(s, [a, b], 10);
    // b runs alone for a long while...
    run(s, [b], 100);
    // ...then a comes back: they alternate again instead of a taking 50 in a row.
    const order = Array.from({ length: 10 }, () => s.pick([a, b])!.id);
    expect(order.filter((id) => id === 'a').length).toBeGreaterThanOrEqual(4);
    expect(order.filter((id) => id === 'a').length).toBeLessThanOrEqual(6);
    // A brand-new job joins at the current virtual time, too.
    const c = { id: 'c', priority: 1 };
    const three = run(s, [a, b, c], 30);
    expect(three.get('c')).toBeGreaterThanOrEqual(9);
    expect(three.get('c')).toBeLessThanOrEqual(11);
  });
  it('is deterministic and forgets finished jobs', () => {
    const jobs = [
      { id: 'a', priority: 2 },
      { id: 'b', priority: 7 },
      { id: 'c', priority: 4 },
    ];
    const seq = (): string[] => {
      const s = new JobScheduler();
      return Array.from({ length: 50 }, () => s.pick(jobs)!.id);
    };
    expect(seq()).toEqual(seq());
    const s = new JobScheduler();
    s.pick(jobs);
    expect(s.passOf('a')).toBeDefined();
    s.forget('a');
    expect(s.passOf('a')).toBeUndefined();
  });
  it('priorities are integers clamped to 1..10; absent means 1', () => {
    expect(normalisePriority(undefined)).toBe(1);
    expect(normalisePriority(0)).toBe(1);
    expect(normalisePriority(11)).toBe(10);
    expect(normalisePriority(2.6)).toBe(3);
    expect(normalisePriority(NaN)).toBe(1);
  });
});
