/**
 * For the server's tests: a raw signaling WebSocket that records what it receives, how it closed,
 * and the HTTP status when the upgrade itself was refused.
 */
import WebSocket from 'ws';
import { SIGNALING_WS_PATH } from '../signaling.ts';

export interface TestSocket {
  readonly ws: WebSocket;
  /** Parsed JSON messages received so far. */
  readonly messages: Array<{ type?: string; src?: string; dst?: string; payload?: { msg?: string } }>;
  /** The first message (OPEN, ERROR, ...), or an Error with the refused upgrade's status. */
  readonly first: Promise<{ type?: string; payload?: { msg?: string } }>;
  /** Resolves with the close code once the socket is closed (or the upgrade refused). */
  readonly closed: Promise<number>;
  send(message: unknown): void;
  /** Waits until `predicate` holds for the messages received (5 s limit). */
  waitFor(predicate: (messages: TestSocket['messages']) => boolean): Promise<void>;
}

export interface ConnectOptions {
  token?: string;
  origin?: string;
  /** Local address to connect from, e.g. 127.0.0.2 to act as a second client address. */
  localAddress?: string;
  headers?: Record<string, string>;
}

export function signalingUrl(base: string, id: string, token = 't0'): string {
  return `${base.replace(/^http/, 'ws')}${SIGNALING_WS_PATH}?key=peerjs&id=${encodeURIComponent(id)}&token=${encodeURIComponent(token)}`;
}

export function connect(base: string, id: string, options: ConnectOptions = {}): TestSocket {
  const ws = new WebSocket(signalingUrl(base, id, options.token), {
    ...(options.origin ? { origin: options.origin } : {}),
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    ...(options.headers ? { headers: options.headers } : {}),
  });
  const messages: TestSocket['messages'] = [];
  const waiters = new Set<() => void>();
  let resolveFirst!: (m: TestSocket['messages'][number]) => void;
  let rejectFirst!: (e: Error) => void;
  const first = new Promise<TestSocket['messages'][number]>((resolve, reject) => {
    resolveFirst = resolve;
    rejectFirst = reject;
  });
  first.catch(() => undefined);
  const closed = new Promise<number>((resolve) => {
    ws.on('close', (code) => resolve(code));
    ws.on('unexpected-response', (_req, res) => {
      rejectFirst(new Error(`upgrade refused: ${res.statusCode}`));
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
  });
  ws.on('error', (err) => rejectFirst(err));
  ws.on('message', (data: Buffer) => {
    const m = JSON.parse(data.toString()) as TestSocket['messages'][number];
    messages.push(m);
    if (messages.length === 1) resolveFirst(m);
    for (const w of waiters) w();
  });
  return {
    ws,
    messages,
    first,
    closed,
    send: (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message)),
    waitFor: (predicate) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (!predicate(messages)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out; received ${JSON.stringify(messages).slice(0, 500)}`));
        }, 5000);
        waiters.add(check);
        check();
      }),
  };
}
