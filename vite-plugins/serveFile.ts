import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Sends one file from disk as the dev server's answer to a GET or HEAD: its length, its type, no
 * caching (a rebuilt asset must not be served stale), the body streamed. Shared by the plugins
 * that serve files the bundler does not handle (/ort/, /models/).
 */
export function serveFile(req: IncomingMessage, res: ServerResponse, file: string, type: string, next: (err?: unknown) => void): void {
  const { size } = fs.statSync(file);
  res.statusCode = 200;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', size);
  res.setHeader('Cache-Control', 'no-cache');
  if (req.method === 'HEAD') return void res.end();
  fs.createReadStream(file).on('error', next).pipe(res);
}
