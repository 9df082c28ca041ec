import { beforeAll, describe, expect, it } from 'vitest';
import { generateCoordinatorKeyPair, identityOf, type CoordinatorIdentity } from '../src/host/coordinatorKey.ts';
import { SIGNALING_LIMITS } from './config.ts';
import { claim } from './testing/coordinatorClaim.ts';
import { serverRig } from './testing/serverRig.ts';
import type { TestSocket } from './testing/signalingClient.ts';

// [K-8] Over real HTTP and WebSockets: a coordinator's socket relays an answer and ICE candidates
// for every volunteer that joins, so one registered with a live [K-7] ticket has a budget sized for
// that; every other socket keeps the per-socket budget.

const { start, open } = serverRig();
let key: CoordinatorIdentity;
beforeAll(async () => {
  key = await identityOf(await generateCoordinatorKeyPair());
});

/**
 * What a tab coordinator's socket sends per joining volunteer, as measured by the scale bench
 * (BENCHMARKS.md, "Signaling per join"): one answer of ~620 bytes and two candidates of ~320.
 */
function relayJoin(coordinator: TestSocket, volunteer: string, join: number): void {
  const connectionId = `dc_${join.toString(36).padStart(10, '0')}`;
  const sdp = `v=0\r\no=- ${join} 2 IN IP4 127.0.0.1\r\n${'a=x\r\n'.repeat(100)}`;
  coordinator.send({ type: 'ANSWER', dst: volunteer, payload: { sdp: { type: 'answer', sdp }, type: 'data', connectionId } });
  for (let c = 0; c < 2; c++) {
    const candidate = `candidate:${c} 1 udp 2122260223 10.77.0.1 ${50_000 + c} typ host generation 0 ufrag abcd network-id 1 ${'x'.repeat(100)}`;
    coordinator.send({ type: 'CANDIDATE', dst: volunteer, payload: { candidate: { candidate, sdpMid: '0', sdpMLineIndex: 0 }, type: 'data', connectionId } });
  }
}

/** 200 volunteers joining at once, all answered through `socket` (to one connected volunteer id). */
const JOINS = 200;
const MESSAGES_PER_JOIN = 3;
function joinStorm(socket: TestSocket, volunteer: string): void {
  for (let j = 0; j < JOINS; j++) relayJoin(socket, volunteer, j);
}

async function volunteerSocket(base: string): Promise<TestSocket> {
  const v = open(base, 'volunteer-0f8fad5b');
  expect((await v.first).type).toBe('OPEN');
  return v;
}

describe('[K-8] the coordinator’s signaling budget', () => {
  it('[K-8] the storm is over the per-socket budget and within the coordinator’s', () => {
    const messages = JOINS * MESSAGES_PER_JOIN;
    expect(messages).toBeGreaterThan(SIGNALING_LIMITS.messageBurst);
    expect(messages).toBeLessThanOrEqual(SIGNALING_LIMITS.coordinatorMessageBurst);
  });

  it('[K-8] a claimed coordinator socket relaying a 200-join burst is not dropped, and every message is relayed', async () => {
    const s = await start();
    const ticket = await claim(s.url, 'quorum-main', key);
    expect(ticket.status).toBe(200);
    const coordinator = open(s.url, 'quorum-main', { token: ticket.text });
    expect((await coordinator.first).type).toBe('OPEN');
    const volunteer = await volunteerSocket(s.url);

    joinStorm(coordinator, 'volunteer-0f8fad5b');
    await volunteer.waitFor((m) => m.filter((x) => x.src === 'quorum-main').length >= JOINS * MESSAGES_PER_JOIN);
    expect(coordinator.ws.readyState).toBe(coordinator.ws.OPEN);
    expect(coordinator.messages.some((x) => x.type === 'ERROR')).toBe(false);
    expect(s.signaling.stats().droppedSockets).toEqual({});
  });

  it('[K-8] an unclaimed coordinator id under the same load is dropped at the per-socket budget', async () => {
    const s = await start();
    const unclaimed = open(s.url, 'quorum-main');
    expect((await unclaimed.first).type).toBe('OPEN');
    await volunteerSocket(s.url);

    joinStorm(unclaimed, 'volunteer-0f8fad5b');
    expect(await unclaimed.closed).toBe(1008);
    expect(unclaimed.messages.at(-1)?.payload?.msg).toMatch(`too many signaling messages (over ${SIGNALING_LIMITS.messagesPerSecond}/s)`);
    expect(s.signaling.stats().droppedSockets['message rate']).toBe(1);
  });

  it('[K-8] a volunteer socket keeps the per-socket budget, beside a claimed coordinator', async () => {
    const s = await start();
    const ticket = await claim(s.url, 'quorum-main', key);
    const coordinator = open(s.url, 'quorum-main', { token: ticket.text });
    expect((await coordinator.first).type).toBe('OPEN');
    const volunteer = await volunteerSocket(s.url);

    joinStorm(volunteer, 'quorum-main');
    expect(await volunteer.closed).toBe(1008);
    expect(volunteer.messages.at(-1)?.payload?.msg).toMatch(`too many signaling messages (over ${SIGNALING_LIMITS.messagesPerSecond}/s)`);
    expect(coordinator.ws.readyState).toBe(coordinator.ws.OPEN);
  });

  it('[K-8] a ticket for another id, or a made-up one, earns nothing more', async () => {
    const s = await start();
    const other = await claim(s.url, 'quorum-other', key);
    expect(other.status).toBe(200);
    await volunteerSocket(s.url);
    // An id nobody claimed registers with any token, and keeps the per-socket budget.
    for (const token of [other.text, 'made-up-ticket']) {
      const borrowed = open(s.url, 'quorum-main', { token });
      expect((await borrowed.first).type).toBe('OPEN');
      joinStorm(borrowed, 'volunteer-0f8fad5b');
      expect(await borrowed.closed, token).toBe(1008);
      expect(borrowed.messages.at(-1)?.payload?.msg).toMatch(/too many signaling messages/);
    }
    // A claimed id with a made-up ticket is not registered at all ([K-7]).
    const impostor = open(s.url, 'quorum-other', { token: 'made-up-ticket' });
    expect((await impostor.first).payload?.msg).toMatch(/reserved for the holder/);
  });

  it('[K-8] every socket of one claimed id shares its one budget: a second socket with the same ticket buys no fresh burst', async () => {
    const s = await start();
    const ticket = await claim(s.url, 'quorum-main', key);
    // peer lets a second socket in under a registered id when it brings the same token.
    const first = open(s.url, 'quorum-main', { token: ticket.text });
    expect((await first.first).type).toBe('OPEN');
    const second = open(s.url, 'quorum-main', { token: ticket.text });
    await new Promise<void>((resolve) => second.ws.once('open', () => resolve()));
    await volunteerSocket(s.url);

    // 1,500 messages: within the coordinator's burst alone, 1.5 times it with the second socket's.
    const each = 1_500;
    expect(each).toBeLessThan(SIGNALING_LIMITS.coordinatorMessageBurst);
    for (let i = 0; i < each; i++) first.send({ type: 'HEARTBEAT' });
    await new Promise((r) => setTimeout(r, 200));
    expect(s.signaling.stats().droppedSockets).toEqual({});
    for (let i = 0; i < each; i++) second.send({ type: 'HEARTBEAT' });
    expect(await second.closed).toBe(1008);
    expect(s.signaling.stats().droppedSockets['message rate']).toBe(1);
  });
});
