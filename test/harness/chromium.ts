// Debian's headless Chromium for the dashboard test, driven over the DevTools protocol on a pipe
// (--remote-debugging-pipe: fd 3 in, fd 4 out, NUL-terminated JSON), so no WebSocket client or
// puppeteer is needed. Installed with apt-get when missing (see debianTool.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { ensureTool } from './debianTool.ts';

/** The chromium binary, installed when missing and possible. */
export function ensureChromium(): string {
  return ensureTool({ command: 'chromium', candidates: ['/usr/bin/chromium'], pkg: 'chromium', neededBy: 'test/deploy/dashboard.test.ts' });
}

/** Something the page reported as an error: a console.error, an uncaught exception, a failed load. */
export interface PageProblem {
  source: string;
  text: string;
}

/** One page in a headless browser. */
export interface HeadlessPage {
  /** Navigates and waits for the load event. */
  goto(url: string): Promise<void>;
  /** Evaluates an expression in the page (promises awaited); its JSON value. */
  evaluate<T>(expression: string): Promise<T>;
  /** A PNG of the viewport. */
  screenshot(): Promise<Buffer>;
  /** Errors the page has logged so far. */
  problems: PageProblem[];
  close(): Promise<void>;
}

type Message = { id?: number; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: { message: string }; sessionId?: string };

/** Starts headless Chromium with one page of width × height; close() kills it and removes its profile. */
export async function openHeadlessPage(width = 1280, height = 900): Promise<HeadlessPage> {
  const bin = ensureChromium();
  const profile = mkdtempSync(join(tmpdir(), 'pgpress-chromium-'));
  // Its own process group (detached): close() kills the renderers and helpers with it.
  const child: ChildProcess = spawn(bin, [
    '--headless=new',
    '--remote-debugging-pipe',
    // Tests run as root in a container: Chromium's sandbox needs user namespaces it may not have.
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--no-first-run',
    '--no-default-browser-check',
    '--hide-scrollbars',
    `--user-data-dir=${profile}`,
    `--window-size=${width},${height}`,
    'about:blank',
  ], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'], detached: true });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const toBrowser = child.stdio[3] as Writable;
  const fromBrowser = child.stdio[4] as Readable;
  let nextId = 1;
  const pending = new Map<number, { ok: (r: Record<string, unknown>) => void; fail: (e: Error) => void }>();
  const listeners: ((m: Message) => void)[] = [];
  let buffer = '';
  fromBrowser.on('data', (d: Buffer) => {
    buffer += d.toString();
    let end: number;
    while ((end = buffer.indexOf('\0')) >= 0) {
      const msg = JSON.parse(buffer.slice(0, end)) as Message;
      buffer = buffer.slice(end + 1);
      if (msg.id !== undefined && pending.has(msg.id)) {
        const p = pending.get(msg.id)!;
        pending.delete(msg.id);
        if (msg.error) p.fail(new Error(`chromium: ${msg.error.message}`));
        else p.ok(msg.result ?? {});
      } else {
        for (const l of listeners) l(msg);
      }
    }
  });
  child.once('exit', () => {
    for (const p of pending.values()) p.fail(new Error(`chromium exited:\n${stderr}`));
    pending.clear();
  });
  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> =>
    new Promise((ok, fail) => {
      const id = nextId++;
      pending.set(id, { ok, fail });
      toBrowser.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });

  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
      process.kill(-child.pid!, 'SIGKILL');
      await exited;
    }
    // A helper process may still be flushing into the profile for a moment: retry the removal.
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  };

  try {
    const { targetId } = (await send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
    const { sessionId } = (await send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
    const problems: PageProblem[] = [];
    let loaded: (() => void) | undefined;
    listeners.push((m) => {
      if (m.sessionId !== sessionId) return;
      const p = m.params ?? {};
      if (m.method === 'Runtime.consoleAPICalled' && (p.type === 'error' || p.type === 'assert')) {
        const args = (p.args as { value?: unknown; description?: string }[]).map((a) => a.description ?? String(a.value)).join(' ');
        problems.push({ source: 'console', text: args });
      } else if (m.method === 'Runtime.exceptionThrown') {
        const d = p.exceptionDetails as { text: string; exception?: { description?: string } };
        problems.push({ source: 'exception', text: d.exception?.description ?? d.text });
      } else if (m.method === 'Log.entryAdded') {
        const e = p.entry as { level: string; text: string; url?: string };
        if (e.level === 'error') problems.push({ source: 'log', text: `${e.text}${e.url ? ` (${e.url})` : ''}` });
      } else if (m.method === 'Page.loadEventFired') {
        loaded?.();
      }
    });
    for (const domain of ['Runtime.enable', 'Log.enable', 'Page.enable']) await send(domain, {}, sessionId);
    await send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false }, sessionId);
    return {
      problems,
      async goto(url) {
        const load = new Promise<void>((ok) => (loaded = ok));
        const r = (await send('Page.navigate', { url }, sessionId)) as { errorText?: string };
        if (r.errorText) throw new Error(`navigating to ${url}: ${r.errorText}`);
        await load;
      },
      async evaluate<T>(expression: string): Promise<T> {
        const r = (await send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }, sessionId)) as {
          result: { value?: T };
          exceptionDetails?: { text: string; exception?: { description?: string } };
        };
        if (r.exceptionDetails) throw new Error(`in the page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
        return r.result.value as T;
      },
      async screenshot() {
        const r = (await send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: false }, sessionId)) as { data: string };
        return Buffer.from(r.data, 'base64');
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
