/** Shared plumbing of the measuring scripts: flags, a free port, and waiting for the server. */
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';

export function cliArgs(args: readonly string[] = process.argv.slice(2)): {
  flag(name: string): boolean;
  option(name: string, fallback: string): string;
} {
  return {
    flag: (name) => args.includes(name),
    option: (name, fallback) => {
      const i = args.indexOf(name);
      return i >= 0 && args[i + 1] !== undefined ? (args[i + 1] as string) : fallback;
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export async function waitForHealth(url: string, server: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (server.exitCode !== null) throw new Error(`server exited with ${server.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`server did not answer ${url} within ${timeoutMs} ms`);
}
