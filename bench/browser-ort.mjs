/**
 * onnxruntime-web's WASM backend in Chromium, outside the app: a static server (with the cross-origin isolation
 * headers that WASM threads need) serves a bare page whose module workers load the same ort build and wasm files
 * the app's worker uses (ort.min.mjs + ort-wasm-simd-threaded.asyncify.*). One worker per configuration, because
 * ort.env.wasm.numThreads is fixed per module instance at its first session. Used by bench/ab.mjs (A/B of session
 * options and graph variants) and by bench/run.mjs (BENCH_PROFILE: per-op profile).
 *
 * The web build has no profile file to read back: with enableProfiling, session.endProfiling() prints the events
 * (one JSON object per line) through console.log, so the worker captures console output around that call.
 */
import { createServer } from 'node:http';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ORT_DIST = resolve(ROOT, 'node_modules/onnxruntime-web/dist');
const TYPES = {
  '.mjs': 'text/javascript',
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.html': 'text/html',
};

const PAGE = '<!doctype html><meta charset="utf-8"><title>ort-web lab</title><p>ort-web lab</p>';

const WORKER = `
import * as ort from '/ort/ort.min.mjs';
const captured = [];
for (const level of ['log', 'info', 'warn', 'error']) {
  const original = console[level].bind(console);
  console[level] = (...args) => {
    const text = args.map(String).join(' ');
    if (captured.active) captured.push(...text.split('\\n'));
    else if (level === 'error') original(...args);
  };
}
const sessions = new Map();
let configured = false;
function tensor(x) {
  const data = x.type === 'int32' ? Int32Array.from(x.data) : Float32Array.from(x.data);
  return new ort.Tensor(x.type, data, x.dims);
}
async function runOnce(sess, input) {
  const t = tensor(input);
  const t0 = performance.now();
  const r = await sess.run({ [sess.inputNames[0]]: t });
  for (const v of Object.values(r)) { v.data.slice(); v.dispose(); }
  const ms = performance.now() - t0;
  t.dispose();
  return ms;
}
self.onmessage = async ({ data: m }) => {
  try {
    if (m.cmd === 'create') {
      if (!configured) {
        ort.env.wasm.wasmPaths = { mjs: '/ort/ort-wasm-simd-threaded.asyncify.mjs', wasm: '/ort/ort-wasm-simd-threaded.asyncify.wasm' };
        ort.env.wasm.numThreads = m.threads;
        ort.env.wasm.proxy = false;
        ort.env.logLevel = 'error';
        configured = true;
      }
      const bytes = new Uint8Array(await (await fetch(m.url)).arrayBuffer());
      if (m.options.enableProfiling) { captured.length = 0; captured.active = true; }
      sessions.set(m.id, await ort.InferenceSession.create(bytes, m.options));
      captured.active = false;
      self.postMessage({ ok: true, threads: ort.env.wasm.numThreads });
    } else if (m.cmd === 'time') {
      const sess = sessions.get(m.id);
      const times = [];
      for (let i = 0; i < m.warmup + m.runs; i++) {
        const ms = await runOnce(sess, m.input);
        if (i >= m.warmup) times.push(ms);
      }
      self.postMessage({ ok: true, times });
    } else if (m.cmd === 'profile') {
      const sess = sessions.get(m.id);
      captured.length = 0; captured.active = true;
      for (let i = 0; i < m.runs; i++) await runOnce(sess, m.input);
      sess.endProfiling();
      captured.active = false;
      self.postMessage({ ok: true, lines: [...captured] });
    } else if (m.cmd === 'release') {
      await sessions.get(m.id)?.release();
      sessions.delete(m.id);
      self.postMessage({ ok: true });
    }
  } catch (e) {
    captured.active = false;
    self.postMessage({ ok: false, error: String(e && e.message || e) });
  }
};
`;

/** Serves the page, the worker, ort's dist/ under /ort/ and the files named in `files` (url path → absolute path). */
function serve(port, files) {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cache-Control': 'no-store',
    };
    if (path === '/') return res.writeHead(200, { ...headers, 'Content-Type': 'text/html' }).end(PAGE);
    if (path === '/lab-worker.mjs')
      return res.writeHead(200, { ...headers, 'Content-Type': 'text/javascript' }).end(WORKER);
    let file = files.get(path);
    if (!file && path.startsWith('/ort/')) file = resolve(ORT_DIST, path.slice(5));
    if (!file || !file.startsWith('/') || !existsSync(file) || !statSync(file).isFile())
      return res.writeHead(404, headers).end();
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  return new Promise((ok) => server.listen(port, '127.0.0.1', () => ok(server)));
}

/**
 * Starts Chromium on a bare isolated page. `lab.worker(threads)` returns a handle whose calls go to its own ort
 * instance: create(id, file, options), time(id, input, runs, warmup) → ms[], profile(id, input, runs) → lines,
 * release(id). Inputs are { type: 'float32' | 'int32', data, dims }. Call lab.close() at the end.
 */
export async function startLab({ port = 4189, chromiumPath, args = [] } = {}) {
  const files = new Map();
  const server = await serve(port, files);
  const browser = await chromium.launch({ executablePath: chromiumPath, args });
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${port}/`);
  if (!(await page.evaluate(() => self.crossOriginIsolated)))
    throw new Error('the lab page is not cross-origin isolated: WASM threads would be off');
  let nextWorker = 0;
  let nextFile = 0;
  const urlFor = (file) => {
    for (const [u, f] of files) if (f === file) return u;
    const u = `/f/${nextFile++}/${file.split('/').pop()}`;
    files.set(u, file);
    return u;
  };
  const call = (w, msg) =>
    page.evaluate(
      ([w, msg]) =>
        new Promise((ok, fail) => {
          const worker = self.__labWorkers[w];
          worker.onmessage = ({ data }) => (data.ok ? ok(data) : fail(new Error(data.error)));
          worker.postMessage(msg);
        }),
      [w, msg],
    );
  return {
    async worker(threads) {
      const w = nextWorker++;
      await page.evaluate((w) => {
        self.__labWorkers ??= [];
        self.__labWorkers[w] = new Worker('/lab-worker.mjs', { type: 'module' });
      }, w);
      return {
        threads,
        create: (id, file, options) => call(w, { cmd: 'create', id, url: urlFor(file), options, threads }),
        time: async (id, input, runs, warmup) =>
          (await call(w, { cmd: 'time', id, input: plain(input), runs, warmup })).times,
        profile: async (id, input, runs) =>
          (await call(w, { cmd: 'profile', id, input: plain(input), runs })).lines,
        release: (id) => call(w, { cmd: 'release', id }),
      };
    },
    version: browser.version(),
    async close() {
      await browser.close();
      await new Promise((ok) => server.close(ok));
    },
  };
}

const plain = (x) => ({ type: x.type, data: Array.from(x.data), dims: x.dims });

/** The app's own WASM session options (src/worker/inference.worker.ts createSession), for a like-for-like baseline. */
export const APP_WASM_OPTIONS = {
  executionProviders: ['wasm'],
  graphOptimizationLevel: 'all',
  logSeverityLevel: 3,
  extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
};

/** Polls `url` until it answers 2xx (true) or `ms` pass (false). */
export async function waitForServer(url, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if ((await fetch(url)).ok) return true;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return false;
}

export const readJson = (p) => JSON.parse(readFileSync(p, 'utf8'));
