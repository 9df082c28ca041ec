/**
 * e2e helpers. Import `test` and `expect` from here instead of '@playwright/test':
 *
 *   import { test, expect } from './support/browser.ts';
 *
 *   test('coordinator sees two volunteers @loop', async ({ openRoles }) => {
 *     const [coord, v1, v2] = await openRoles(['coordinator', 'volunteer', 'volunteer']);
 *     await expect(coord.page.getByRole('heading')).toContainText('Coordinator');
 *     expect(v1.foreignRequests()).toEqual([]);
 *   });
 *
 * Every context is a separate browser profile (own storage, own IndexedDB, own peer), created
 * with camera/microphone permission so loopback WebRTC works. Each captures its console, page
 * errors and failed requests; when a test fails these logs are attached to the report as
 * `console-<name>.log`. Contexts are closed after the test.
 */
import fs from 'node:fs';
import path from 'node:path';
import { test as base, expect, type BrowserContext, type BrowserContextOptions, type ConsoleMessage, type Page } from '@playwright/test';
import { CONTEXT_PERMISSIONS, E2E_ADMIN_TOKEN, E2E_BASE_URL } from './env.ts';

export { expect };
export { E2E_BASE_URL } from './env.ts';

export const ROLES = ['volunteer', 'coordinator', 'requester', 'network'] as const;
export type Role = (typeof ROLES)[number];

export interface TestContext {
  /** Unique per test: the role without its query, suffixed -2, -3... when repeated. */
  readonly name: string;
  readonly context: BrowserContext;
  /** The context's first page. */
  readonly page: Page;
  /** Console messages, page errors and failed requests of every page in the context, timestamped. */
  readonly logs: string[];
  /** Every URL the context requested (HTTP and WebSocket), in order. */
  readonly requests: string[];
  /** Requests (HTTP and WebSocket) that went to an origin other than the app's. */
  foreignRequests(): string[];
  /** Navigates the first page to `/#/<role>` and waits for the load event. */
  gotoRole(role: Role | string): Promise<void>;
}

export interface OpenOptions {
  /** Extra options for browser.newContext (baseURL and permissions are preset). */
  contextOptions?: BrowserContextOptions;
}

export interface HarnessFixtures {
  /** Opens one isolated context (with one page, not navigated) per name. */
  openContexts: (names: readonly string[] | number, options?: OpenOptions) => Promise<TestContext[]>;
  /** Opens one isolated context per role and navigates each to `/#/<role>` (a role may carry a query: 'volunteer?autostart=1'). */
  openRoles: (roles: readonly (Role | string)[], options?: OpenOptions) => Promise<TestContext[]>;
  /** The app's origin, e.g. http://127.0.0.1:18080. */
  appOrigin: string;
}

const started = Date.now();
const stamp = (): string => `+${((Date.now() - started) / 1000).toFixed(3)}s`;

function isOwnOrigin(url: string, origin: string): boolean {
  if (!/^(https?|wss?):/i.test(url)) return true; // data:, blob:, about:, chrome-extension: never leave the machine
  const u = new URL(url);
  const asHttp = u.protocol === 'wss:' ? 'https:' : u.protocol === 'ws:' ? 'http:' : u.protocol;
  return `${asHttp}//${u.host}` === origin;
}

function formatConsole(msg: ConsoleMessage): string {
  const loc = msg.location();
  const where = loc.url ? ` (${loc.url.replace(/^https?:\/\/[^/]+/, '')}:${loc.lineNumber})` : '';
  return `${msg.type()}: ${msg.text()}${where}`;
}

function instrument(page: Page, logs: string[], tag: string): void {
  const prefix = tag ? `[${tag}] ` : '';
  page.on('console', (msg) => logs.push(`${stamp()} ${prefix}${formatConsole(msg)}`));
  page.on('pageerror', (err) => logs.push(`${stamp()} ${prefix}pageerror: ${err.stack ?? err.message}`));
  page.on('requestfailed', (req) => logs.push(`${stamp()} ${prefix}requestfailed: ${req.url()} ${req.failure()?.errorText ?? ''}`));
  page.on('crash', () => logs.push(`${stamp()} ${prefix}CRASH`));
  page.on('worker', (w) => logs.push(`${stamp()} ${prefix}worker started: ${w.url()}`));
}

export const test = base.extend<HarnessFixtures>({
  appOrigin: [
    async ({ baseURL }, use) => {
      const origin = new URL(baseURL ?? E2E_BASE_URL).origin;
      // [K-7] Each test is a fresh network whose coordinator is a fresh profile (a key of its
      // own): the id the last test's coordinator claimed is released, as a new server would be.
      await fetch(`${origin}/admin/signaling/release`, { method: 'POST', headers: { Authorization: `Bearer ${E2E_ADMIN_TOKEN}` } });
      await use(origin);
    },
    { scope: 'test' },
  ],

  openContexts: async ({ browser, baseURL, appOrigin }, use, testInfo) => {
    const opened: TestContext[] = [];
    const seen = new Map<string, number>();

    const openContexts = async (names: readonly string[] | number, options: OpenOptions = {}): Promise<TestContext[]> => {
      const list = typeof names === 'number' ? Array.from({ length: names }, (_, i) => `ctx${i + 1}`) : names;
      const out: TestContext[] = [];
      for (const raw of list) {
        // 'volunteer?autostart=1' is named 'volunteer'; repeats become volunteer-2, volunteer-3...
        const baseName = raw.replace(/[?#].*$/, '').replace(/[^A-Za-z0-9._-]+/g, '-') || 'ctx';
        const n = (seen.get(baseName) ?? 0) + 1;
        seen.set(baseName, n);
        const name = n === 1 ? baseName : `${baseName}-${n}`;
        const context = await browser.newContext({
          baseURL: baseURL ?? E2E_BASE_URL,
          permissions: [...CONTEXT_PERMISSIONS],
          ...options.contextOptions,
        });
        const logs: string[] = [];
        const requests: string[] = [];
        context.on('request', (req) => requests.push(req.url()));
        let pageCount = 0;
        context.on('page', (p) => {
          pageCount++;
          instrument(p, logs, pageCount === 1 ? '' : `page${pageCount}`);
          p.on('websocket', (ws) => requests.push(ws.url()));
        });
        const page = await context.newPage();
        const tc: TestContext = {
          name,
          context,
          page,
          logs,
          requests,
          foreignRequests: () => requests.filter((u) => !isOwnOrigin(u, appOrigin)),
          gotoRole: async (role) => {
            await page.goto(`/#/${role}`, { waitUntil: 'load' });
          },
        };
        opened.push(tc);
        out.push(tc);
      }
      return out;
    };

    await use(openContexts);

    const failed = testInfo.status !== testInfo.expectedStatus;
    if (failed || process.env['E2E_ATTACH_LOGS'] === '1') {
      for (const tc of opened) {
        // A file under test-results/e2e/<test>/ (kept by CI) and an attachment in the report.
        const file = testInfo.outputPath(`console-${tc.name}.log`);
        await fs.promises.mkdir(path.dirname(file), { recursive: true });
        await fs.promises.writeFile(file, tc.logs.length ? tc.logs.join('\n') + '\n' : '(no console output)\n');
        await testInfo.attach(`console-${tc.name}.log`, { path: file, contentType: 'text/plain' });
      }
    }
    await Promise.all(opened.map((tc) => tc.context.close().catch(() => undefined)));
  },

  openRoles: async ({ openContexts }, use) => {
    await use(async (roles, options) => {
      const contexts = await openContexts(roles, options);
      await Promise.all(contexts.map((tc, i) => tc.gotoRole(roles[i] ?? '')));
      return contexts;
    });
  },
});

/** Evaluates `fetch(path)` inside the page (so COEP/CORP apply) and reports status and headers. */
export async function fetchInPage(
  page: Page,
  path: string,
  init: { method?: string } = {},
): Promise<{ status: number; contentType: string | null; text: string | null }> {
  return page.evaluate(
    async ({ path: p, method }) => {
      const res = await fetch(p, { method: method ?? 'GET', cache: 'no-store' });
      const contentType = res.headers.get('content-type');
      const isText = /^(text\/|application\/json)/.test(contentType ?? '');
      const text = isText ? await res.text() : null;
      if (!isText) await res.body?.cancel();
      return { status: res.status, contentType, text };
    },
    { path, method: init.method },
  );
}
