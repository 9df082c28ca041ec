import { describe, expect, it, vi } from 'vitest';
import { SIGNALING_LIMITS } from './config.ts';
import { serverRig } from './testing/serverRig.ts';

// Every signaling budget over real HTTP and WebSockets: over it, the client is refused or dropped
// with a reason; under it, nothing changes. 127.0.0.2 acts as a second client address.

const { start, open } = serverRig();

const OTHER_ADDRESS = '127.0.0.2';
const offer = (dst: string, bytes: number): Record<string, unknown> => ({ type: 'OFFER', dst, payload: { sdp: 'x'.repeat(bytes) } });

describe('signaling ids', () => {
  it('refuses ids and tokens outside the protocol id grammar at connect', async () => {
    const s = await start();
    for (const id of ['../../etc', '<script>', 'a'.repeat(8000), 'a'.repeat(SIGNALING_LIMITS.maxIdLength + 1), 'quorum main', 'ü']) {
      const bad = open(s.url, id);
      const first = await bad.first;
      expect(first.type, id.slice(0, 20)).toBe('ERROR');
      expect(first.payload?.msg).toMatch(/peer id/);
      await bad.closed;
    }
    const badToken = open(s.url, 'fine-id', { token: '<b>'.repeat(30) });
    expect((await badToken.first).payload?.msg).toMatch(/token/);
    await badToken.closed;
    expect(s.signaling.stats().refusedConnections).toMatchObject({ 'bad id': 6, 'bad token': 1 });
    await expect.poll(() => s.signaling.clientCount()).toBe(0);

    // Ids the app uses (quorum-<network>, uuids from /peerjs/peerjs/id) still register.
    for (const id of ['quorum-main', '0f8fad5b-d9cb-469f-a165-70867728950e', 'a'.repeat(SIGNALING_LIMITS.maxIdLength)]) {
      expect((await open(s.url, id).first).type).toBe('OPEN');
    }
  });
});

describe('signaling per-address budgets', () => {
  it('holds one address to maxIdsPerAddress ids; other addresses are untouched', async () => {
    const s = await start({ signalingLimits: { maxIdsPerAddress: 4 } });
    const held = Array.from({ length: 4 }, (_, i) => open(s.url, `bulk-${i}`));
    for (const h of held) expect((await h.first).type).toBe('OPEN');
    const over = open(s.url, 'bulk-4');
    expect((await over.first).payload?.msg).toMatch(/too many peer ids from your address \(4\)/);
    await over.closed;

    // Another client address still registers, and the held ids are still open.
    expect((await open(s.url, 'elsewhere', { localAddress: OTHER_ADDRESS }).first).type).toBe('OPEN');
    expect(held.every((h) => h.ws.readyState === h.ws.OPEN)).toBe(true);

    // An id given back frees its slot.
    held[0]?.ws.close();
    await held[0]?.closed;
    expect((await open(s.url, 'bulk-5').first).type).toBe('OPEN');
  });

  it('the default leaves room for a busy loopback test: 64 ids from one address', async () => {
    const s = await start();
    const all = Array.from({ length: SIGNALING_LIMITS.maxIdsPerAddress }, (_, i) => open(s.url, `tab-${i}`));
    expect((await Promise.all(all.map((a) => a.first))).every((m) => m.type === 'OPEN')).toBe(true);
    expect((await open(s.url, 'one-too-many').first).type).toBe('ERROR');
  });

  it('limits new connections per address with a refill rate (429), not other addresses', async () => {
    const s = await start({ signalingLimits: { connectBurst: 3, connectsPerMinute: 60 } });
    for (let i = 0; i < 3; i++) {
      const c = open(s.url, `churn-${i}`);
      expect((await c.first).type).toBe('OPEN');
      c.ws.close();
      await c.closed;
    }
    const over = open(s.url, 'churn-3');
    await expect(over.first).rejects.toThrow(/upgrade refused: 429/);
    expect((await open(s.url, 'calm', { localAddress: OTHER_ADDRESS }).first).type).toBe('OPEN');
    // One connect per second comes back.
    await new Promise((r) => setTimeout(r, 1100));
    expect((await open(s.url, 'churn-4').first).type).toBe('OPEN');
  });
});

describe('signaling messages', () => {
  it('closes a socket that sends a message over maxMessageBytes (1009); smaller ones are relayed', async () => {
    const s = await start();
    const a = open(s.url, 'a');
    const b = open(s.url, 'b');
    await a.first;
    await b.first;
    a.send(offer('b', 16 * 1024));
    await b.waitFor((m) => m.some((x) => x.type === 'OFFER' && x.src === 'a'));
    a.send(offer('b', SIGNALING_LIMITS.maxMessageBytes));
    expect(await a.closed).toBe(1009);
    expect(b.ws.readyState).toBe(b.ws.OPEN);
  });

  it('caps what one address queues for absent ids; the refused get EXPIRE, the rest are delivered', async () => {
    const s = await start({ signalingLimits: { maxQueuedBytesPerAddress: 8 * 1024, maxQueuedMessagesPerAddress: 100 } });
    const sender = open(s.url, 'sender');
    await sender.first;
    for (let i = 0; i < 20; i++) sender.send(offer('absent', 1024));
    await sender.waitFor((m) => m.filter((x) => x.type === 'EXPIRE').length >= 1);
    expect(sender.messages.find((x) => x.type === 'EXPIRE')).toMatchObject({ src: 'absent', dst: 'sender' });
    // Another address's messages for absent ids are still queued and delivered.
    const other = open(s.url, 'other-sender', { localAddress: OTHER_ADDRESS });
    await other.first;
    other.send(offer('absent', 1024));

    const dst = open(s.url, 'absent');
    await dst.waitFor((m) => m.some((x) => x.src === 'other-sender'));
    const fromSender = dst.messages.filter((x) => x.type === 'OFFER' && x.src === 'sender').length;
    expect(fromSender).toBeGreaterThan(0);
    expect(fromSender).toBeLessThanOrEqual(8);
    expect(sender.ws.readyState).toBe(sender.ws.OPEN);
  });

  it.each([
    ['bytes', { maxQueuedBytesTotal: 6 * 1024 }],
    ['messages', { maxQueuedMessagesTotal: 6 }],
  ])('caps the %s queued on the whole server across addresses', async (_what, limits) => {
    const s = await start({ signalingLimits: limits });
    const a = open(s.url, 'qa');
    const b = open(s.url, 'qb', { localAddress: OTHER_ADDRESS });
    await a.first;
    await b.first;
    for (let i = 0; i < 4; i++) a.send(offer('nobody', 1024));
    await new Promise((r) => setTimeout(r, 50));
    expect(a.messages.some((x) => x.type === 'EXPIRE')).toBe(false); // under the cap: queued
    for (let i = 0; i < 4; i++) b.send(offer('nobody', 1024));
    await b.waitFor((m) => m.some((x) => x.type === 'EXPIRE'));
    expect(s.signaling.stats().refusedMessages['queue full (server)']).toBeGreaterThan(0);
  });

  it('drops a socket over its message rate with a reason; one under it is untouched', async () => {
    const s = await start({ signalingLimits: { messageBurst: 20, messagesPerSecond: 5 } });
    const calm = open(s.url, 'calm');
    const noisy = open(s.url, 'noisy');
    await calm.first;
    await noisy.first;
    for (let i = 0; i < 15; i++) calm.send({ type: 'HEARTBEAT' });
    for (let i = 0; i < 40; i++) noisy.send({ type: 'HEARTBEAT' });
    expect(await noisy.closed).toBe(1008);
    expect(noisy.messages.at(-1)?.payload?.msg).toMatch(/too many signaling messages/);
    await new Promise((r) => setTimeout(r, 100));
    expect(calm.ws.readyState).toBe(calm.ws.OPEN);
  });

  it('drops a socket over its byte rate', async () => {
    const s = await start({ signalingLimits: { byteBurst: 32 * 1024, bytesPerSecond: 1024 } });
    const a = open(s.url, 'a');
    const b = open(s.url, 'b');
    await a.first;
    await b.first;
    for (let i = 0; i < 5; i++) a.send(offer('b', 10 * 1024));
    expect(await a.closed).toBe(1008);
    expect(a.messages.at(-1)?.payload?.msg).toMatch(/too many signaling bytes/);
  });

  it('drops a socket that sends malformed messages (not JSON, not an object, bad dst)', async () => {
    const s = await start();
    for (const bad of ['{not json', '42', '[]', JSON.stringify({ type: 'OFFER', dst: '../x' })]) {
      const c = open(s.url, 'fuzzer');
      await c.first;
      c.send(bad);
      expect(await c.closed, bad).toBe(1008);
      expect(c.messages.at(-1)?.payload?.msg).toMatch(/malformed signaling message/);
    }
    expect(s.signaling.stats().droppedSockets['malformed message']).toBe(4);
  });
});

describe('signaling origin', () => {
  it('accepts the app’s own origin and no-Origin clients, refuses other origins (403)', async () => {
    const s = await start();
    await expect(open(s.url, 'evil', { origin: 'http://evil.example' }).first).rejects.toThrow(/upgrade refused: 403/);
    await expect(open(s.url, 'evil2', { origin: 'null' }).first).rejects.toThrow(/upgrade refused: 403/);
    const port = new URL(s.url).port;
    await expect(open(s.url, 'evil3', { origin: `https://127.0.0.1:${port}` }).first).rejects.toThrow(/upgrade refused: 403/);
    expect((await open(s.url, 'page', { origin: s.url }).first).type).toBe('OPEN');
    expect((await open(s.url, 'node').first).type).toBe('OPEN');
    expect(s.signaling.stats().refusedConnections['origin']).toBe(3);
  });

  it('accepts origins listed in allowedOrigins', async () => {
    const s = await start({ allowedOrigins: ['https://quorum.example.org'] });
    expect((await open(s.url, 'proxied', { origin: 'https://quorum.example.org' }).first).type).toBe('OPEN');
  });
});

describe('signaling log', () => {
  it('logs refusals in aggregate: one line per reason, not one per client', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const s = await start();
      for (let i = 0; i < 30; i++) {
        const bad = open(s.url, `<bad ${i}>`);
        await bad.first;
      }
      expect(s.signaling.stats().refusedConnections['bad id']).toBe(30);
      const lines = warn.mock.calls.map((c) => String(c[0]));
      expect(lines.filter((l) => l.includes('bad id'))).toHaveLength(1);
    } finally {
      warn.mockRestore();
    }
  });
});
