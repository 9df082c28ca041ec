import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { serverRig } from './testing/serverRig.ts';

// [E-4] The presence endpoint over real HTTP, against the real signaling server.

const { start, open } = serverRig();

interface Answer {
  status: number;
  body: unknown;
  retryAfter: string | null;
}

/** GET /presence from a chosen local address (127.0.0.2 acts as a second client). */
function ask(base: string, query: string, localAddress = '127.0.0.1', method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}/presence${query}`, { method, localAddress }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
        const retryAfter = res.headers['retry-after'];
        resolve({ status: res.statusCode ?? 0, body, retryAfter: typeof retryAfter === 'string' ? retryAfter : null });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('[E-4] GET /presence', () => {
  it('says whether a coordinator id is registered right now, following signaling as it registers, leaves, stops and starts', async () => {
    const s = await start();
    expect(await ask(s.url, '?id=quorum-lab')).toMatchObject({ status: 200, body: { id: 'quorum-lab', present: false } });

    const coordinator = open(s.url, 'quorum-lab');
    expect((await coordinator.first).type).toBe('OPEN');
    expect((await ask(s.url, '?id=quorum-lab')).body).toEqual({ id: 'quorum-lab', present: true });
    expect((await ask(s.url, '?id=quorum-other')).body).toEqual({ id: 'quorum-other', present: false });

    coordinator.ws.close();
    await coordinator.closed;
    await expect.poll(async () => (await ask(s.url, '?id=quorum-lab')).body).toEqual({ id: 'quorum-lab', present: false });

    // Registered again, then signaling stops: nobody is there while it is down.
    const again = open(s.url, 'quorum-lab', { token: 't1' });
    expect((await again.first).type).toBe('OPEN');
    expect((await ask(s.url, '?id=quorum-lab')).body).toEqual({ id: 'quorum-lab', present: true });
    await s.signalingControl.stop();
    expect(await ask(s.url, '?id=quorum-lab')).toMatchObject({ status: 200, body: { present: false } });
    s.signalingControl.start();
    const back = open(s.url, 'quorum-lab', { token: 't2' });
    expect((await back.first).type).toBe('OPEN');
    expect((await ask(s.url, '?id=quorum-lab')).body).toEqual({ id: 'quorum-lab', present: true });
  });

  it('answers only for coordinator ids: no volunteer or requester id can be probed', async () => {
    const s = await start();
    const volunteer = open(s.url, 'volunteer-7f3a');
    expect((await volunteer.first).type).toBe('OPEN');
    for (const query of [
      '?id=volunteer-7f3a',
      '',
      '?id=',
      '?id=quorum-',
      '?id=quorum-a%20b',
      `?id=quorum-${'x'.repeat(41)}`,
      '?id=..%2F..%2Fetc',
      '?id=%3Cscript%3E',
    ]) {
      const a = await ask(s.url, query);
      expect(a.status, query).toBe(400);
      expect(JSON.stringify(a.body), query).toMatch(/coordinator id: quorum-<network>/);
      expect(JSON.stringify(a.body), query).not.toMatch(/7f3a/);
    }
    expect((await ask(s.url, '?id=quorum-x', '127.0.0.1', 'POST')).status).toBe(405);
  });

  it('is rate-limited per client address, with Retry-After, and leaves other addresses alone', async () => {
    const s = await start({ signalingLimits: { presenceBurst: 5, presencePerMinute: 30 } });
    for (let i = 0; i < 5; i++) expect((await ask(s.url, '?id=quorum-lab')).status).toBe(200);
    const refused = await ask(s.url, '?id=quorum-lab');
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toBe('2');
    expect(JSON.stringify(refused.body)).toMatch(/too many presence checks from your address \(over 30\/min\)/);
    // Bad ids spend the budget too, so probing many names is throttled alike.
    expect((await ask(s.url, '?id=nope')).status).toBe(429);
    expect((await ask(s.url, '?id=quorum-lab', '127.0.0.2')).status).toBe(200);
  });
});
