/** For the server's tests: the first message a WebSocket at `url` receives (a 5 s limit). */
import WebSocket from 'ws';

export function firstMessage(url: string, protocol?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = protocol ? new WebSocket(url, protocol) : new WebSocket(url);
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no message from ${url}`));
    }, 5000);
    ws.on('message', (data: Buffer) => {
      clearTimeout(timer);
      ws.close();
      resolve(data.toString());
    });
    ws.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
