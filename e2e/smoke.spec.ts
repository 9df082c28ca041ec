import { ROLES, expect, fetchInPage, test } from './support/browser.ts';

test.describe('smoke @smoke', () => {
  test('each role route renders, stays on its own origin and is cross-origin isolated @smoke', async ({ openRoles }) => {
    const contexts = await openRoles(ROLES);
    for (const tc of contexts) {
      const { page } = tc;
      await expect(page, `${tc.name}: title`).toHaveTitle(/Quorum/);
      expect(await page.evaluate(() => crossOriginIsolated), `${tc.name}: crossOriginIsolated`).toBe(true);
    }
    // Let late requests (lazy chunks, config, signaling) happen before judging where they went.
    await Promise.all(contexts.map((tc) => tc.page.waitForLoadState('networkidle').catch(() => undefined)));
    for (const tc of contexts) {
      expect(tc.requests.length, `${tc.name}: made requests`).toBeGreaterThan(0);
      expect(tc.foreignRequests(), `${tc.name}: requests to other origins`).toEqual([]);
    }
  });

  test('serves ORT runtime, runtime config and PeerJS signaling on the app origin @smoke', async ({ openContexts }) => {
    const [tc] = await openContexts(['probe']);
    if (!tc) throw new Error('no context');
    await tc.page.goto('/');

    const wasm = await fetchInPage(tc.page, '/ort/ort-wasm-simd-threaded.jsep.wasm');
    expect(wasm.status).toBe(200);
    expect(wasm.contentType).toBe('application/wasm');
    const glue = await fetchInPage(tc.page, '/ort/ort-wasm-simd-threaded.jsep.mjs');
    expect(glue.status).toBe(200);
    expect(glue.contentType).toMatch(/javascript/);

    const config = await fetchInPage(tc.page, '/config.json');
    expect(config.status).toBe(200);
    expect(JSON.parse(config.text ?? 'null')).toEqual({ iceServers: [] });

    const id = await fetchInPage(tc.page, '/peerjs/peerjs/id');
    expect(id.status).toBe(200);
    expect(id.text).toMatch(/^[0-9a-f-]{36}$/);

    // The signaling WebSocket answers OPEN on the same origin.
    const open = await tc.page.evaluate(async (peerId) => {
      const url = `${location.origin.replace(/^http/, 'ws')}/peerjs/peerjs?key=peerjs&id=${peerId}&token=smoke`;
      return new Promise<string>((resolve, reject) => {
        const ws = new WebSocket(url);
        ws.onmessage = (e) => {
          ws.close();
          resolve(String(e.data));
        };
        ws.onerror = () => reject(new Error('signaling websocket failed'));
      });
    }, id.text ?? '');
    expect(JSON.parse(open)).toEqual({ type: 'OPEN' });
    expect(tc.foreignRequests()).toEqual([]);
  });
});

// Harness self-check, independent of the app: two isolated contexts open a WebRTC DataChannel
// over loopback (needs --allow-loopback-in-peer-connection plus media permission). If this fails,
// suspect the browser flags or the machine, not the app.
test('two contexts connect a WebRTC DataChannel over loopback @smoke @webrtc', async ({ openContexts }) => {
  const [a, b] = await openContexts(['offerer', 'answerer']);
  if (!a || !b) throw new Error('no contexts');
  await Promise.all([a.page.goto('/'), b.page.goto('/')]);

  // Installs a helper in both pages: wait until ICE gathering is complete (no trickle needed).
  const installHelper = () => {
    (globalThis as unknown as { gathered: (pc: RTCPeerConnection) => Promise<void> }).gathered = (pc) =>
      new Promise((resolve) => {
        if (pc.iceGatheringState === 'complete') return resolve();
        pc.addEventListener('icegatheringstatechange', () => {
          if (pc.iceGatheringState === 'complete') resolve();
        });
      });
  };
  await Promise.all([a.page.evaluate(installHelper), b.page.evaluate(installHelper)]);
  type W = { gathered: (pc: RTCPeerConnection) => Promise<void>; pc?: RTCPeerConnection; dc?: RTCDataChannel; got?: Promise<string> };

  const offer = await a.page.evaluate(async () => {
    const w = globalThis as unknown as W;
    const pc = new RTCPeerConnection({ iceServers: [] });
    const dc = pc.createDataChannel('smoke');
    w.pc = pc;
    w.dc = dc;
    w.got = new Promise((resolve) => (dc.onmessage = (e) => resolve(String(e.data))));
    await pc.setLocalDescription(await pc.createOffer());
    await w.gathered(pc);
    return JSON.stringify(pc.localDescription);
  });
  expect(offer, 'offer has loopback host candidates').toContain('127.0.0.1');

  const answer = await b.page.evaluate(async (offerJson) => {
    const w = globalThis as unknown as W;
    const pc = new RTCPeerConnection({ iceServers: [] });
    w.pc = pc;
    pc.ondatachannel = (e) => {
      e.channel.onmessage = (m) => e.channel.send(`echo:${String(m.data)}`);
    };
    await pc.setRemoteDescription(JSON.parse(offerJson) as RTCSessionDescriptionInit);
    await pc.setLocalDescription(await pc.createAnswer());
    await w.gathered(pc);
    return JSON.stringify(pc.localDescription);
  }, offer);

  const reply = await a.page.evaluate(async (answerJson) => {
    const w = globalThis as unknown as W;
    if (!w.pc || !w.dc || !w.got) throw new Error('offerer not set up');
    await w.pc.setRemoteDescription(JSON.parse(answerJson) as RTCSessionDescriptionInit);
    const dc = w.dc;
    if (dc.readyState !== 'open') await new Promise((resolve) => (dc.onopen = resolve));
    dc.send('ping');
    return w.got;
  }, answer);
  expect(reply).toBe('echo:ping');
});
