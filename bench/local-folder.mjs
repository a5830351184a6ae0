#!/usr/bin/env node
/**
 * node bench/local-folder.mjs <folder>… — what opening a model folder from disk costs (issue 13, item 1): for
 * each folder, the time from handing it to the app's folder input to the model being ready (every file's sha256
 * verified, graphs checked), the worker's V8 heap and ArrayBuffers (DevTools protocol) and the browser's resident
 * memory (all its processes, sampled every 100 ms: baseline, peak while loading, after), then one prompt embedded
 * (a table read by rows is read then). Not a test: it prints one line per folder. Needs `npx vite build` first.
 *
 * Env: LOCAL_FOLDER_PORT (5391: the preview server's port), CHROMIUM_PATH (e2e/chromium.json's).
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { waitForServer } from './browser-ort.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PORT = Number(process.env.LOCAL_FOLDER_PORT ?? 5391);
const CHROMIUM = JSON.parse(readFileSync(resolve(ROOT, 'e2e/chromium.json'), 'utf8'));
const folders = process.argv.slice(2).map((f) => resolve(f));
if (!folders.length) {
  console.error('usage: node bench/local-folder.mjs <model folder>…');
  process.exit(2);
}

const MiB = 2 ** 20;
const mib = (b) => `${(b / MiB).toFixed(0)} MiB`;

function folderBytes(dir) {
  let n = 0;
  let files = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      const sub = folderBytes(p);
      n += sub.bytes;
      files += sub.files;
    } else {
      n += statSync(p).size;
      files++;
    }
  }
  return { bytes: n, files };
}

/** Resident memory of every process whose command line names the profile folder (the browser and its children). */
async function browserRss(profile) {
  // async: a blocking ps would stall the page polling and inflate the timings
  const { stdout: out } = await promisify(execFile)('ps', ['-eo', 'rss=,args='], {
    encoding: 'utf8',
    maxBuffer: 64 * MiB,
  });
  let kib = 0;
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (m && m[2].includes(profile)) kib += Number(m[1]);
  }
  return kib * 1024;
}

/**
 * The inference worker's V8 heap through the DevTools protocol (its performance.memory does not exist in this
 * Chromium): used size and ArrayBuffer backing stores after a GC, so bytes the worker still holds show.
 */
async function workerInspector(page) {
  const cdp = await page.context().newCDPSession(page);
  const replies = new Map();
  let next = 0;
  const found = new Promise((ok) =>
    cdp.on('Target.attachedToTarget', (e) => {
      if (e.targetInfo.type === 'worker' && e.targetInfo.url.includes('inference.worker')) ok(e.sessionId);
    }),
  );
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    const m = JSON.parse(e.message);
    if (m.id !== undefined) replies.get(m.id)?.(m);
  });
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  const sessionId = await found;
  const send = async (method, params = {}) => {
    const id = ++next;
    const reply = new Promise((ok) => replies.set(id, ok));
    await cdp.send('Target.sendMessageToTarget', {
      sessionId,
      message: JSON.stringify({ id, method, params }),
    });
    const m = await reply;
    if (m.error) throw new Error(`${method}: ${m.error.message}`);
    return m.result;
  };
  return async () => {
    await send('HeapProfiler.collectGarbage');
    const u = await send('Runtime.getHeapUsage');
    return { used: u.usedSize, backing: u.backingStorageSize ?? NaN };
  };
}

const server = spawn(
  'npx',
  ['vite', 'preview', '--host', '127.0.0.1', '--port', String(PORT), '--strictPort'],
  { cwd: ROOT, stdio: 'ignore', detached: true },
);
const base = `http://127.0.0.1:${PORT}/`;
const profile = mkdtempSync(join(os.tmpdir(), 'toklip-local-folder-profile-'));
let context;
try {
  if (!(await waitForServer(base, 60_000))) throw new Error('vite preview did not start');
  // strictPort: a server that exited found the port taken (another checkout's server would answer instead)
  if (server.exitCode !== null) throw new Error(`port ${PORT} is in use: set LOCAL_FOLDER_PORT`);
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? CHROMIUM.executablePath,
    args: [...CHROMIUM.args, '--enable-precise-memory-info'],
  });
  for (const folder of folders) {
    const page = await context.newPage();
    await page.goto(`${base}?ep=wasm&debug=1`);
    await page.waitForSelector('[data-testid="app"][data-model-status="ready"]', { timeout: 300_000 });
    // The bundled model's own first work (its default prompts) must not be timed with the folder's load.
    await page.waitForFunction(
      () => /text encoder/.test(document.querySelector('[data-testid="text-status"]')?.textContent ?? ''),
      null,
      { timeout: 300_000 },
    );
    await page.waitForTimeout(3000);
    const heap = await workerInspector(page);
    const heap0 = await heap();
    const rss0 = await browserRss(profile);
    let peak = rss0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await browserRss(profile));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const name = basename(folder);
    // In-page clock: from the folder input's change event to the new model's panel.
    await page.evaluate((id) => {
      const w = window;
      w.__lf = {};
      document
        .querySelector('[data-testid="model-folder-input"]')
        .addEventListener('change', () => (w.__lf.change = performance.now()), { capture: true });
      new MutationObserver(() => {
        if (!w.__lf.ready && document.querySelector(`[data-testid="model-ready"][data-model-id="${id}"]`))
          w.__lf.ready = performance.now();
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    }, name);
    const t0 = performance.now();
    await page.getByTestId('model-folder-input').setInputFiles(folder);
    await page.waitForFunction(
      (id) =>
        document.querySelector(`[data-testid="model-ready"][data-model-id="${id}"]`) ||
        document.querySelector('[data-testid="model-load-error"], [data-testid="model-error"]'),
      name,
      { timeout: 600_000, polling: 100 },
    );
    const loadMs = performance.now() - t0;
    sampling = false;
    await sampler;
    const inPage = await page.evaluate(() => window.__lf.ready - window.__lf.change);
    const failed = await page.locator('[data-testid="model-load-error"]').count();
    if (failed) throw new Error(await page.getByTestId('model-load-error').textContent());
    const heap1 = await heap();
    const rss1 = await browserRss(profile);
    // the worker's own time for the load (LoadResult.downloadMs), as the panel shows it
    const workerLoad = /verified \(sha256\) in ([\d.,]+\s*(?:ms|s)\b)/.exec(
      (await page.getByTestId('model-ready').textContent()) ?? '',
    )?.[1];
    const mode = await page
      .getByTestId('model-facts')
      .getAttribute('data-table-mode')
      .catch(() => null);
    const t1 = performance.now();
    await page.getByTestId('prompts').fill('a photo of a cat on a sofa');
    await page.waitForTimeout(400); // the prompt box's debounce
    await page.waitForFunction(
      () => {
        const t = document.querySelector('[data-testid="text-status"]')?.textContent ?? '';
        return /text encoder/i.test(t) && !/embedding prompts/.test(t);
      },
      null,
      { timeout: 120_000, polling: 50 },
    );
    const textStatus = await page.getByTestId('text-status').textContent();
    const { bytes, files } = folderBytes(folder);
    console.log(
      `${name}: ${files} files, ${mib(bytes)} on disk; table ${mode ?? 'none'}; ready ${(inPage / 1000).toFixed(2)} s after the input's change event ` +
        `(worker: ${workerLoad}; ${(loadMs / 1000).toFixed(1)} s with Playwright's setInputFiles); ` +
        `worker heap used ${mib(heap0.used)} → ${mib(heap1.used)}, ArrayBuffers ${mib(heap0.backing)} → ${mib(heap1.backing)}; browser RSS ${mib(rss0)} before, ${mib(peak)} peak, ${mib(rss1)} after; ` +
        `new prompt embedded in ${(performance.now() - t1 - 400).toFixed(0)} ms after the debounce (${textStatus})`,
    );
    await page.close();
  }
} finally {
  await context?.close();
  rmSync(profile, { recursive: true, force: true });
  try {
    process.kill(-server.pid);
  } catch {
    /* already gone */
  }
}
