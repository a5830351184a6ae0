#!/usr/bin/env node
/**
 * npm run bench — per-stage latency of the bundled model (public/models/<id>/) on
 *   (a) the browser with WebGPU (whatever adapter Chromium has: SwiftShader, a software renderer, here),
 *   (b) the browser with WASM, 1 thread and all threads (the app's own worker, via its ?debug=1 hooks),
 *   (c) onnxruntime-node (native CPU; Python onnxruntime if the node binding cannot load, labelled so),
 *   (d) PyTorch eager on CPU (bench/torch_bench.py; the same graph wrappers the export uses),
 * all in one run on this machine: median and p90 over N runs after warm-up, ratio to (c), achieved GFLOP/s
 * (FLOPs counted per stage by torch.utils.flop_counter) and model bytes per dtype. Not a test: it prints a
 * Markdown table and saves it to bench/results/<date>-<host>-<model>.md with the raw figures (.json) and a bar chart
 * (.svg) next to it (bench/report.mjs builds both; bench/render.mjs re-renders them), then onnxruntime's per-op
 * profile of every stage, browser WASM and native.
 *
 * Options (env): BENCH_RUNS (20), BENCH_WARMUP (3), BENCH_WEBGPU_RUNS (10), BENCH_SKIP=webgpu,wasm1,wasmN,drop,lab,ort,torch,
 * profile,browser, BENCH_PROFILE_RUNS (5: profiled runs per stage), BENCH_PROFILE_THREADS (all cores), BENCH_TAG (appended to the result files' name),
 * BENCH_MODEL (toklip-tiny), BENCH_MODEL_DIR (public/models: the folder holding <BENCH_MODEL>/; a folder elsewhere
 * is hard-linked into dist/models/ for the browser and removed afterwards), BENCH_TORCH_CHECKPOINT / BENCH_TORCH_VQ /
 * BENCH_TORCH_VARIANT (official-layout weights for row (d), see bench/torch_bench.py), PYTHON (.venv/bin/python),
 * CHROMIUM_PATH (/usr/bin/chromium), BENCH_PORT (4179: the preview server's port).
 */
import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { APP_WASM_OPTIONS, startLab, waitForServer } from './browser-ort.mjs';
import { benchInput } from './inputs.mjs';
import { benchMarkdown, benchSvg, hasChartRows, opTable, parseOrtProfile } from './report.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MODEL = process.env.BENCH_MODEL ?? 'toklip-tiny';
const MODEL_DIR = resolve(process.env.BENCH_MODEL_DIR ?? resolve(ROOT, 'public/models'));
const FOLDER = resolve(MODEL_DIR, MODEL);
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const PROFILE_RUNS = Number(process.env.BENCH_PROFILE_RUNS ?? 5);
// all cores by default, as the timed rows; 1 separates kernel cost from thread wake-ups on a loaded machine
const PROFILE_THREADS = Number(process.env.BENCH_PROFILE_THREADS ?? os.cpus().length);
const WEBGPU_RUNS = Math.max(10, Number(process.env.BENCH_WEBGPU_RUNS ?? 10));
const SKIP = new Set((process.env.BENCH_SKIP ?? '').split(',').filter(Boolean));
const PYTHON = process.env.PYTHON ?? resolve(ROOT, '.venv/bin/python');
const PORT = Number(process.env.BENCH_PORT ?? 4179);
// The flags the e2e tests use too (playwright.config.ts reads the same file).
const CHROMIUM = JSON.parse(readFileSync(resolve(ROOT, 'e2e/chromium.json'), 'utf8'));
const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? CHROMIUM.executablePath;

const STAGES = [
  { name: 'VQ encode', role: 'vq_encoder' },
  { name: 'VQ decode', role: 'vq_decoder' },
  { name: 'semantic encode', role: 'semantic_encoder' },
  { name: 'text encode', role: 'text_encoder' },
];

const manifest = JSON.parse(readFileSync(resolve(FOLDER, 'manifest.json'), 'utf8'));

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};
const stats = (times) => ({ median: pct(times, 50), p90: pct(times, 90), n: times.length });
const log = (...a) => console.error('[bench]', ...a);

/** The same inputs in every runtime (the worker's bench hook builds them identically). */
const inputFor = (role) => benchInput(manifest, role);

const graphPath = (role) => resolve(FOLDER, manifest.files.find((f) => f.role === role).path);

// ---- (c) onnxruntime-node ----------------------------------------------------------------------------

async function benchOrtNode() {
  let ort;
  try {
    ort = await import('onnxruntime-node');
  } catch (e) {
    log(`onnxruntime-node unavailable (${e.message}); using Python onnxruntime instead`);
    return benchOrtPython();
  }
  const out = {
    label: `(c) onnxruntime-node ${ort.env?.versions?.common ?? ''} CPU, ${os.cpus().length} threads`,
    stages: {},
  };
  for (const st of STAGES) {
    const sess = await ort.InferenceSession.create(graphPath(st.role), { graphOptimizationLevel: 'all' });
    const x = inputFor(st.role);
    const times = [];
    for (let i = 0; i < WARMUP + RUNS; i++) {
      const t = new ort.Tensor(x.type, x.data.slice(), x.dims);
      const t0 = performance.now();
      const r = await sess.run({ [sess.inputNames[0]]: t });
      const o = r[sess.outputNames[0]];
      o.data.slice();
      if (i >= WARMUP) times.push(performance.now() - t0);
    }
    await sess.release();
    out.stages[st.name] = stats(times);
  }
  return out;
}

function benchOrtPython() {
  const code = `
import json, sys, time, statistics, numpy as np, onnxruntime as ort
m = json.load(open(sys.argv[1] + '/manifest.json'))
S = m['image']['size']; h = m['grid']['h']; w = m['grid']['w']; L = m['text']['context_length']
def inp(role):
    if role == 'vq_encoder':
        n = 3*S*S; return (np.arange(n, dtype=np.float64) / n * 2 - 1).astype(np.float32).reshape(1,3,S,S)
    if role == 'text_encoder' and m['text'].get('input') == 'embeddings':
        D = m['text']['embedding_table']['dim']; return np.linspace(-0.05, 0.05, L*D, dtype=np.float32).reshape(1,L,D)
    if role == 'text_encoder': return ((np.arange(L)*7+5) % 100).astype(np.int32).reshape(1,L)
    return ((np.arange(h*w)*37) % m['codebook']['size']).astype(np.int32).reshape(1,h,w)
out = {}
for role in sys.argv[4:]:
    f = next(x for x in m['files'] if x['role'] == role)
    s = ort.InferenceSession(sys.argv[1] + '/' + f['path'], providers=['CPUExecutionProvider'])
    x = inp(role); name = s.get_inputs()[0].name; ts = []
    for i in range(int(sys.argv[2]) + int(sys.argv[3])):
        t0 = time.perf_counter(); s.run(None, {name: x}); dt = (time.perf_counter() - t0) * 1000
        if i >= int(sys.argv[2]): ts.append(dt)
    out[role] = ts
print(json.dumps({'version': ort.__version__, 'times': out}))
`;
  const r = JSON.parse(
    execFileSync(PYTHON, ['-c', code, FOLDER, String(WARMUP), String(RUNS), ...STAGES.map((s) => s.role)], {
      encoding: 'utf8',
    }),
  );
  const out = { label: `(c) Python onnxruntime ${r.version} CPU (node binding unavailable)`, stages: {} };
  for (const st of STAGES) out.stages[st.name] = stats(r.times[st.role]);
  return out;
}

// ---- (d) PyTorch eager -----------------------------------------------------------------------------

function benchTorch() {
  const r = JSON.parse(
    execFileSync(PYTHON, [resolve(ROOT, 'bench/torch_bench.py'), String(RUNS), String(WARMUP)], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    }),
  );
  const out = {
    label: `(d) PyTorch ${r.torch} eager CPU, ${r.threads} threads`,
    note: `PyTorch weights: ${r.weights}`,
    stages: {},
    flops: {},
  };
  for (const st of STAGES) {
    out.stages[st.name] = stats(r.stages[st.name].times_ms);
    out.flops[st.name] = r.stages[st.name].flops;
  }
  return out;
}

// ---- (a)/(b) the browser --------------------------------------------------------------------------

async function benchBrowser() {
  if (!existsSync(resolve(ROOT, 'dist/index.html'))) {
    log('building the app (dist/ is missing)…');
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  }
  // A model folder outside public/ (e.g. a multi-GB export) is served by hard links, not a copy.
  const served = resolve(ROOT, 'dist/models', MODEL);
  let linked = false;
  if (MODEL_DIR !== resolve(ROOT, 'public/models') && !existsSync(served)) {
    execFileSync('cp', ['-al', FOLDER, served]);
    linked = true;
  }
  const server = spawn(
    'npx',
    ['vite', 'preview', '--host', '127.0.0.1', '--port', String(PORT), '--strictPort'],
    {
      cwd: ROOT,
      stdio: 'ignore',
      detached: true,
    },
  );
  const base = `http://127.0.0.1:${PORT}/`;
  const results = [];
  let browser;
  try {
    if (!(await waitForServer(base, 60_000))) throw new Error('vite preview did not start');
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM.args });
    const version = browser.version();
    const hw = os.cpus().length;
    const configs = [
      { key: 'webgpu', query: 'ep=webgpu', runs: WEBGPU_RUNS, warmup: 1 },
      { key: 'wasm1', query: 'ep=wasm&threads=1', runs: RUNS, warmup: WARMUP },
      { key: 'wasmN', query: 'ep=wasm', runs: RUNS, warmup: WARMUP },
    ].filter((c) => !SKIP.has(c.key));
    for (const c of configs) {
      const page = await browser.newPage();
      await page.goto(`${base}?${c.query}&debug=1&model=${MODEL}`);
      await page.waitForSelector('[data-testid="app"][data-model-status="ready"]', { timeout: 300_000 });
      const info = await page.evaluate(() => ({
        provider: document.querySelector('[data-testid="app"]').getAttribute('data-provider'),
        status: document.querySelector('[data-testid="provider-status"]')?.textContent ?? '',
      }));
      let label;
      if (c.key === 'webgpu') {
        const adapter = /adapter: ([^)]*)\)/.exec(info.status)?.[1] ?? 'unknown adapter';
        const soft = /swiftshader|llvmpipe|software/i.test(info.status);
        label = `(a) browser WebGPU, Chromium ${version} (${adapter}${soft ? ': a SOFTWARE renderer on the CPU, not a GPU' : ''})`;
        if (info.provider !== 'webgpu') label += ` — WebGPU unavailable, ran on ${info.provider}`;
      } else {
        const threads = /(\d+) threads?/.exec(info.status)?.[1] ?? (c.key === 'wasm1' ? '1' : String(hw));
        label = `(b) browser WASM, Chromium ${version}, ${threads} thread${threads === '1' ? '' : 's'}`;
      }
      const out = { key: c.key, label, stages: {} };
      for (const st of STAGES) {
        log(`${c.key}: ${st.name}…`);
        const r = await page.evaluate(
          ([role, runs, warmup]) => window.__toklipDebug.bench(role, runs, warmup),
          [st.role, c.runs, c.warmup],
        );
        out.stages[st.name] = stats(r.times);
        if (r.liveTensors !== 0) log(`warning: ${r.liveTensors} tensors not disposed after ${st.name}`);
      }
      if (c.key !== 'webgpu' && !SKIP.has('drop')) out.drop = await dropToPanels(page, c.runs, 1);
      if (c.key !== 'webgpu' && !SKIP.has('lab')) out.lab = await labEditToPanels(page, c.runs, 2);
      results.push(out);
      await page.close();
    }
  } finally {
    await browser?.close();
    if (linked) rmSync(served, { recursive: true, force: true });
    try {
      process.kill(-server.pid);
    } catch {
      /* already gone */
    }
  }
  return results;
}

/** The model's held-out sample photos (manifest.samples, paths relative to its folder). */
function sampleFiles() {
  const files = (manifest.samples ?? []).map((x) => resolve(FOLDER, x.file));
  if (!files.length) throw new Error(`${MODEL} lists no samples in its manifest`);
  return files;
}

/**
 * Drop to all panels: the app's own figure (card data-drop-ms: from the file arriving to tokens, reconstruction
 * and similarity all shown), one photo at a time from the model's samples (manifest.samples), the card cleared in
 * between.
 */
async function dropToPanels(page, runs, warmup) {
  const files = sampleFiles();
  const times = [];
  for (let i = 0; i < warmup + runs; i++) {
    log(`drop to panels ${i + 1}/${warmup + runs}…`);
    await page.getByTestId('file-input').setInputFiles(files[i % files.length]);
    const card = page.locator('[data-testid="image-card"][data-status="done"]');
    await card.waitFor({ timeout: 600_000 });
    const ms = Number(await card.getAttribute('data-drop-ms'));
    if (i >= warmup) times.push(ms);
    await page.getByTestId('clear-images').click();
    await page.locator('[data-testid="image-card"]').waitFor({ state: 'detached' });
  }
  return stats(times);
}

/**
 * Token lab: an edit until both panels show it — the ids decoded (picture), embedded by TokLIP and the teacher run
 * on the re-decoded pixels (scores), as the lab runs them (one labRun request). Timed inside the page from the
 * button's click to the lab showing results for exactly the edited ids, then two animation frames (painted).
 * Edits alternate between setting a 4×4 block to a code it does not hold and resetting to the original ids, so
 * every timed edit changes the ids. Between edits the page rests 500 ms, so decoded-patch previews (which run
 * only while no edit is pending) are not what an edit waits for.
 */
async function labEditToPanels(page, runs, warmup) {
  await page.getByTestId('file-input').setInputFiles(sampleFiles()[0]);
  const card = page.locator('[data-testid="image-card"][data-status="done"]');
  await card.waitFor({ timeout: 600_000 });
  await card.getByRole('button', { name: 'Edit tokens (token lab)' }).click();
  const lab = card.getByTestId('token-lab');
  const settled = () =>
    page.waitForFunction(
      () => {
        const el = document.querySelector('[data-testid="token-lab"]');
        return el?.getAttribute('data-lab-state') === 'idle' && el.hasAttribute('data-lab-cosines');
      },
      null,
      { timeout: 600_000 },
    );
  await settled();
  const original = JSON.parse(await lab.getAttribute('data-lab-ids'));
  await lab.getByTestId('lab-grid').focus();
  for (const k of ['Space', ...Array(3).fill('Shift+ArrowRight'), ...Array(3).fill('Shift+ArrowDown')])
    await page.keyboard.press(k);
  const cells = JSON.parse(await lab.getAttribute('data-lab-selection'));
  const used = new Set(cells.map((i) => original[i]));
  let code = manifest.codebook.size - 1;
  while (used.has(code)) code--;
  await lab.getByTestId('lab-code-search').fill(String(code));
  await lab.getByTestId('lab-code-search').press('Enter');
  const edited = original.map((v, i) => (cells.includes(i) ? code : v));
  const buttons = [
    { name: `Set to code ${code}`, ids: JSON.stringify(edited) },
    { name: 'Reset to the original ids', ids: JSON.stringify(original) },
  ];
  const times = [];
  const workers = [];
  for (let i = 0; i < warmup + runs; i++) {
    const b = buttons[i % 2];
    log(`lab edit → both panels ${i + 1}/${warmup + runs}…`);
    await page.waitForTimeout(500);
    const ms = await page.evaluate(
      ([name, want]) =>
        new Promise((resolvePromise, reject) => {
          const el = document.querySelector('[data-testid="token-lab"]');
          const button = [...el.querySelectorAll('button')].find((x) => x.textContent.trim() === name);
          if (!button) return reject(new Error(`no button ${name}`));
          const done = () =>
            el.getAttribute('data-lab-ids') === want &&
            el.getAttribute('data-lab-state') === 'idle' &&
            el.hasAttribute('data-lab-cosines');
          const t0 = performance.now();
          const obs = new MutationObserver(() => {
            if (!done()) return;
            obs.disconnect();
            requestAnimationFrame(() => requestAnimationFrame(() => resolvePromise(performance.now() - t0)));
          });
          obs.observe(el, { attributes: true });
          button.click();
        }),
      [b.name, b.ids],
    );
    if (i >= warmup) {
      times.push(ms);
      workers.push(JSON.parse(await lab.getByTestId('lab-timing').getAttribute('data-lab-timing')));
    }
  }
  await page.getByTestId('clear-images').click();
  // the worker's share of each wait, per graph: what the page adds on top is queueing, messages and painting
  const part = (k) => stats(workers.map((t) => t[k]).filter((v) => typeof v === 'number'));
  return {
    ...stats(times),
    worker: {
      decode: part('decodeMs'),
      embed: part('embedMs'),
      teacher: part('teacherMs'),
      total: part('totalMs'),
    },
  };
}

// ---- per-op profile ----------------------------------------------------------------------------------

/**
 * onnxruntime's own profiler on each stage, browser WASM (the app's session options and thread count, in a bare
 * page: bench/browser-ort.mjs) and onnxruntime-node, each on fresh sessions after the timed rows (profiling slows
 * every node a little, so these sessions are not timed). Returns per-stage op tables for the report.
 */
async function profileStages() {
  const runs = PROFILE_RUNS;
  const tables = {};
  const lab = await startLab({ port: PORT + 10, chromiumPath: CHROMIUM_PATH, args: CHROMIUM.args });
  let webLabel;
  try {
    const w = await lab.worker(PROFILE_THREADS);
    for (const st of STAGES) {
      log(`profile (browser WASM): ${st.name}…`);
      const r = await w.create(st.role, graphPath(st.role), { ...APP_WASM_OPTIONS, enableProfiling: true });
      webLabel = `browser WASM (${r.threads} thr)`;
      const x = benchInput(manifest, st.role);
      await w.time(st.role, x, 0, WARMUP); // warm-up runs are profiled too: they are dropped below
      const events = parseOrtProfile(await w.profile(st.role, x, runs));
      await w.release(st.role);
      // the profiler keeps every run since the session began: only the last `runs` runs' nodes count
      const perRun = events.length / (WARMUP + runs);
      tables[st.name] = [{ label: webLabel, ...opTable(events.slice(Math.round(perRun * WARMUP)), runs) }];
    }
  } finally {
    await lab.close();
  }
  let ort = null;
  try {
    ort = await import('onnxruntime-node');
  } catch (e) {
    log(`onnxruntime-node unavailable (${e.message}): no native profile`);
  }
  if (ort) {
    const dir = mkdtempSync(resolve(os.tmpdir(), 'ort-profile-'));
    try {
      for (const st of STAGES) {
        log(`profile (onnxruntime-node): ${st.name}…`);
        const prefix = resolve(dir, st.role);
        const sess = await ort.InferenceSession.create(graphPath(st.role), {
          graphOptimizationLevel: 'all',
          enableProfiling: true,
          profileFilePrefix: prefix,
          intraOpNumThreads: PROFILE_THREADS,
        });
        const x = inputFor(st.role);
        for (let i = 0; i < WARMUP + runs; i++)
          await sess.run({ [sess.inputNames[0]]: new ort.Tensor(x.type, x.data.slice(), x.dims) });
        sess.endProfiling(); // the node binding returns nothing: the file is <prefix>_<date>.json
        await sess.release();
        const file = readdirSync(dir).find((f) => f.startsWith(`${st.role}_`) && f.endsWith('.json'));
        const events = parseOrtProfile(readFileSync(resolve(dir, file), 'utf8'));
        const perRun = events.length / (WARMUP + runs);
        tables[st.name].push({
          label: `onnxruntime-node (${PROFILE_THREADS} thr)`,
          ...opTable(events.slice(Math.round(perRun * WARMUP)), runs),
        });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { runs, warmup: WARMUP, chromium: lab.version, tables };
}

// ---- report -------------------------------------------------------------------------------------------

function machine() {
  const cpus = os.cpus();
  let chromiumVersion = '';
  try {
    chromiumVersion = execFileSync(CHROMIUM_PATH, ['--version'], {
      encoding: 'utf8',
    }).trim();
  } catch {
    /* ignore */
  }
  return [
    `- CPU: ${cpus[0]?.model ?? 'unknown'} × ${cpus.length} logical cores; RAM ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- OS: ${os.type()} ${os.release()} (${os.platform()}/${os.arch()}); load average at start ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
    `- Node ${process.version}; ${chromiumVersion || 'Chromium'}`,
  ].join('\n');
}

function modelBytes() {
  const by = {};
  for (const f of manifest.files) {
    if (f.role === 'text_embedding') {
      by[`token table (${f.dtype}, CPU)`] = f.bytes;
      continue;
    }
    if (!/encoder|decoder|codebook/.test(f.role)) continue;
    const d = f.dtype ?? 'other';
    by[d] = (by[d] ?? 0) + f.bytes;
  }
  return by;
}

async function main() {
  const started = new Date();
  const runtimes = [];
  if (!SKIP.has('browser')) runtimes.push(...(await benchBrowser()));
  const native = SKIP.has('ort') ? null : await benchOrtNode();
  if (native) runtimes.push({ key: 'native', ...native });
  let torch = null;
  let torchFailure = null;
  if (!SKIP.has('torch')) {
    try {
      torch = benchTorch();
      runtimes.push({ key: 'torch', ...torch });
    } catch (e) {
      log(`PyTorch bench failed (${e.message}); set PYTHON to a Python with torch`);
      torchFailure = `row (d) PyTorch did not run: ${String(e.message).split('\n')[0]} (PYTHON=${PYTHON})`;
    }
  }
  const profile = SKIP.has('profile') ? null : await profileStages();

  const cpus = os.cpus();
  const data = {
    model: MODEL,
    displayName: manifest.display_name,
    started: started.toISOString(),
    host: os.hostname(),
    machine: { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, lines: machine() },
    runs: RUNS,
    warmup: WARMUP,
    webgpuRuns: WEBGPU_RUNS,
    stages: STAGES.map((s) => s.name),
    flops: torch?.flops ?? {},
    modelBytes: modelBytes(),
    runtimes: runtimes.map(({ key, label, stages, drop, lab }) => ({ key, label, stages, drop, lab })),
    notes: [
      ...(torch?.note ? [torch.note] : []),
      ...(torchFailure ? [torchFailure] : []),
      ...(SKIP.size
        ? [
            `Rows not run (BENCH_SKIP): ${[...SKIP].join(', ')}` +
              (process.env.BENCH_NOTE ? ` — ${process.env.BENCH_NOTE}` : ''),
          ]
        : []),
    ],
    profile,
  };
  const md = benchMarkdown(data);
  const dir = resolve(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const host = os.hostname().replace(/[^\w.-]/g, '_');
  const tag = process.env.BENCH_TAG ? `-${process.env.BENCH_TAG.replace(/[^\w.-]/g, '_')}` : '';
  const base = resolve(dir, `${started.toISOString().slice(0, 10)}-${host}-${MODEL}${tag}`);
  writeFileSync(`${base}.md`, md);
  // raw figures, so the table and the chart can be re-rendered (node bench/render.mjs <file>.json)
  writeFileSync(`${base}.json`, JSON.stringify(data, null, 1) + '\n');
  const charted = hasChartRows(data);
  if (charted) writeFileSync(`${base}.svg`, benchSvg(data));
  console.log(md);
  console.log(`saved ${base}.{md,json${charted ? ',svg' : ''}}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
