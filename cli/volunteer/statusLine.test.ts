import { describe, expect, it } from 'vitest';
import type { VolunteerStats } from '../../src/core/volunteer/volunteer.ts';
import { ItemRate, RATE_WINDOW_MS, StatusBoard } from './statusLine.ts';

const stats = (over: Partial<VolunteerStats>): VolunteerStats =>
  ({ phase: 'running', currentShard: null, outbox: 0, paused: false, pauseReason: '', ...over }) as VolunteerStats;

describe('the volunteer status line', () => {
  it('counts items per second over a trailing window', () => {
    const rate = new ItemRate();
    rate.add(100, 0);
    rate.add(100, 1_000);
    expect(rate.perSecond(2_000)).toBe(100);
    expect(rate.perSecond(1_000 + RATE_WINDOW_MS)).toBe(0);
  });

  it('on a terminal, rewrites one line in place and prints log lines above it', () => {
    let now = 0;
    const written: string[] = [];
    const board = new StatusBoard(1, { isTTY: true, write: (t) => written.push(t) }, () => now);
    board.status(0, stats({ currentShard: 'job1/4' }));
    now = 1_000;
    board.shardDone(0, 'job1/4', 50, 12);
    expect(written.at(-1)).toBe('\r\x1b[2Kconnected · 1 shard done · running job1/4 · 50.0 items/s');
    board.log(0, 'warn', 'lost the coordinator');
    expect(written.slice(-2)).toEqual(['\r\x1b[2Kwarn: lost the coordinator\n', '\r\x1b[2Kconnected · 1 shard done · running job1/4 · 50.0 items/s']);
    expect(written.join('')).not.toMatch(/done: 50 items/);
  });

  it('elsewhere (a log file), writes one plain line per shard, naming the volunteer of several', () => {
    const written: string[] = [];
    const board = new StatusBoard(2, { isTTY: false, write: (t) => written.push(t) }, () => 1_000);
    board.status(1, stats({ currentShard: 'job1/2', outbox: 1 }));
    board.shardDone(1, 'job1/1', 25, 7);
    expect(written).toEqual([
      '[volunteer 2] shard job1/1 done: 25 items in 7 ms; 1/2 connected · 1 shard done · running job1/2 · 25.0 items/s · 1 awaiting acknowledgement\n',
    ]);
  });
});
