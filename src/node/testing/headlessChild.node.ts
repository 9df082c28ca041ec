/**
 * A headless coordinator run as a child process, for tests that signal it (SIGTERM, SIGKILL) and
 * read what it prints: every stdout line is parsed as one JSON record ([N-4]), and `ready`
 * resolves with the links and the /metrics address of its "coordinator ready" line. Shared by the
 * Node tests (src/node) and the browser tests (e2e/headless.spec.ts), which spawn it differently
 * (a test entry point, or `bin/quorum.mjs coordinator`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { JoinLinks } from '../joinLinks.ts';
import { parseMetrics } from '../metrics.ts';

export interface HeadlessReady {
  readonly links: JoinLinks;
  /** Where /metrics is served, or null when nowhere. */
  readonly metrics: string | null;
}

export interface HeadlessChild {
  readonly proc: ChildProcess;
  /** The "coordinator ready" line; rejects if the process exits before printing it. */
  readonly ready: Promise<HeadlessReady>;
  /** The exit code, or null when a signal ended it. */
  readonly exited: Promise<number | null>;
  /** Every JSON record printed so far, in order. */
  readonly lines: Record<string, unknown>[];
  /** Every stdout line that was not JSON (there should be none). */
  readonly notJson: string[];
  /** What the process wrote to stderr so far. */
  stderr(): string;
}

/** Spawns `command args` in `cwd`; a stdout line that is not JSON fails `ready` (it would break [N-4]). */
export function spawnHeadless(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = process.env): HeadlessChild {
  const proc = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  const notJson: string[] = [];
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const ready = new Promise<HeadlessReady>((resolve, reject) => {
    let buffered = '';
    proc.stdout?.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const text = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let record: Record<string, unknown>;
        try {
          record = JSON.parse(text) as Record<string, unknown>;
        } catch {
          notJson.push(text);
          reject(new Error(`the coordinator printed a line that is not JSON: ${text}`));
          continue;
        }
        lines.push(record);
        if (record['msg'] === 'coordinator ready') resolve({ links: record['links'] as JoinLinks, metrics: (record['metrics'] as string | null) ?? null });
      }
    });
    void exited.then((code) => reject(new Error(`the coordinator exited (${code}) before it was ready: ${stderr}`)));
  });
  // A test that never awaits `ready` (it expects the start to fail) must not see an unhandled rejection.
  ready.catch(() => undefined);
  return { proc, ready, exited, lines, notJson, stderr: () => stderr };
}

/** One scrape of a coordinator's /metrics, parsed; fails unless it is Prometheus text. */
export async function scrapeMetrics(url: string): Promise<Map<string, number>> {
  const res = await fetch(url);
  const type = res.headers.get('content-type') ?? '';
  if (!/^text\/plain; version=0\.0\.4/.test(type)) throw new Error(`${url} answered ${res.status} with ${type}, not Prometheus text`);
  return parseMetrics(await res.text());
}
