import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  benchMarkdown,
  benchSvg,
  logTicks,
  opTable,
  opTablesMarkdown,
  parseBenchMarkdown,
  parseOrtProfile,
} from './report.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SAVED = resolve(ROOT, 'bench/results/2026-11-29-vm-toklip-tiny.md');

/** A real profile: onnxruntime-node's profiler on the bundled text encoder, `runs` runs. */
async function nativeProfile(runs) {
  const ort = await import('onnxruntime-node');
  const dir = mkdtempSync(resolve(os.tmpdir(), 'report-test-'));
  try {
    const sess = await ort.InferenceSession.create(
      resolve(ROOT, 'public/models/toklip-tiny/text_encoder.onnx'),
      {
        enableProfiling: true,
        profileFilePrefix: resolve(dir, 'p'),
      },
    );
    const manifest = JSON.parse(
      readFileSync(resolve(ROOT, 'public/models/toklip-tiny/manifest.json'), 'utf8'),
    );
    const L = manifest.text.context_length;
    for (let i = 0; i < runs; i++)
      await sess.run({ [sess.inputNames[0]]: new ort.Tensor('int32', new Int32Array(L).fill(3), [1, L]) });
    sess.endProfiling();
    await sess.release();
    return readFileSync(resolve(dir, readdirSync(dir)[0]), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('onnxruntime profile', () => {
  it('reads every kernel event of a native profile file, and the same from web-style console lines', async () => {
    const text = await nativeProfile(2);
    // reference: the file is a JSON array; its Node kernel events, read the plain way
    const all = JSON.parse(text);
    const kernels = all.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'));
    expect(kernels.length).toBeGreaterThan(0);
    expect(kernels.length % 2).toBe(0); // the same nodes in both runs
    const events = parseOrtProfile(text);
    expect(events.map((e) => e.us)).toEqual(kernels.map((e) => e.dur));
    expect(events.map((e) => e.op)).toEqual(kernels.map((e) => e.args.op_name));
    // the web build prints one event per console line, with log lines around it
    const lines = [
      '[I:onnxruntime:, profiler.cc:123 EndProfiling] Writing profiler data to file x.json',
      ...text.split('\n'),
      '{not json',
    ];
    expect(parseOrtProfile(lines)).toEqual(events);
  }, 60_000);

  it('sums per op type per run, biggest first, with the rest in one row', () => {
    const events = [];
    const durs = { MatMul: [300, 100], Add: [40, 10, 50], Softmax: [20], Transpose: [5, 5] };
    for (let run = 0; run < 2; run++)
      for (const [op, ds] of Object.entries(durs))
        ds.forEach((us, k) => events.push({ node: `${op}${k}`, op, us }));
    const total = events.reduce((a, e) => a + e.us, 0);
    const t = opTable(events, 2, 2);
    expect(t.totalMs).toBeCloseTo(total / 1000 / 2, 12);
    expect(t.rows.map((r) => r.op)).toEqual(['MatMul', 'Add', '2 other op types']);
    expect(t.rows[0].ms).toBeCloseTo((300 + 100) / 1000, 12);
    expect(t.rows[0].nodes).toBe(2);
    expect(t.rows[1].nodes).toBe(3);
    expect(t.rows[2].nodes).toBe(3);
    expect(t.rows.reduce((a, r) => a + r.pct, 0)).toBeCloseTo(100, 9);
    expect(t.rows.reduce((a, r) => a + r.ms, 0)).toBeCloseTo(t.totalMs, 12);
    const md = opTablesMarkdown('text encode', [
      { label: 'A', ...t },
      { label: 'B', ...opTable(events, 2) },
    ]);
    const rows = md.split('\n').filter((l) => l.startsWith('| '));
    // header, rule, max(3, 4) op rows, total
    expect(rows).toHaveLength(2 + 4 + 1);
    for (const r of rows) expect(r.split('|').length).toBe(rows[0].split('|').length);
  });
});

describe('bench report', () => {
  const saved = readFileSync(SAVED, 'utf8');
  const data = parseBenchMarkdown(saved);

  it('reads a saved report back: rows, stages and the ratios it printed', () => {
    expect(data.model).toBe('toklip-tiny');
    expect(data.stages).toEqual(['VQ encode', 'VQ decode', 'semantic encode', 'text encode']);
    expect(data.runtimes.map((r) => r.key)).toEqual(['wasm1', 'wasmN', 'native']);
    expect(data.machine.cores).toBe(2);
    // every figure in the saved table comes back; re-rendering recomputes the ratios from medians rounded to
    // 3-4 digits, so they may differ from the printed ones by the rounding only
    const printed = saved.split('\n').filter((l) => l.startsWith('| ('));
    const again = benchMarkdown({ ...data, flops: {}, modelBytes: {}, notes: [] })
      .split('\n')
      .filter((l) => l.startsWith('| ('));
    expect(again).toHaveLength(printed.length);
    const nums = (l) =>
      [...l.matchAll(/([\d.]+) \/ ([\d.]+) \(([\d.]+)×/g)].map((m) => m.slice(1).map(Number));
    printed.forEach((l, i) => {
      const a = nums(l);
      const b = nums(again[i]);
      expect(b).toHaveLength(4);
      a.forEach(([med, p90, ratio], k) => {
        expect(b[k][0]).toBe(med);
        expect(b[k][1]).toBe(p90);
        expect(Math.abs(b[k][2] - ratio)).toBeLessThanOrEqual(0.011);
      });
    });
  });

  it('charts browser WASM and native bars in proportion on the log axis, with title, units and legend', () => {
    const svg = benchSvg(data);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('2026-11-29');
    expect(svg).toContain('AMD EPYC × 2 cores');
    expect(svg).toContain('(ms, log scale)');
    for (const name of ['browser WASM, 1 thread', 'browser WASM, 2 threads', 'onnxruntime-node, 2 threads'])
      expect(svg).toContain(`>${name}</text>`);
    const bars = [
      ...svg.matchAll(
        /<rect x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)"[^>]*><title>([^<]*): ([\d.]+) ms</g,
      ),
    ].map((m) => ({ top: Number(m[1]), h: Number(m[2]), ms: Number(m[4]) }));
    expect(bars).toHaveLength(3 * 4);
    const base = bars[0].top + bars[0].h;
    // log axis: height difference between two bars ∝ log ratio of their values
    const perDecade = (bars[0].h - bars[2].h) / Math.log10(bars[0].ms / bars[2].ms);
    for (const b of bars) {
      expect(b.top + b.h).toBeCloseTo(base, 0);
      expect((bars[0].h - b.h) / perDecade).toBeCloseTo(Math.log10(bars[0].ms / b.ms), 2);
    }
    // the ratio label over the 2-thread VQ decode bar is recomputed from the medians
    expect(svg).toContain(`×${(175.6 / 36.6).toFixed(1)}<`);
  });

  it('escapes names and leaves out rows that are not browser WASM or native', () => {
    const svg = benchSvg({
      ...data,
      displayName: 'A <b> & "c"',
      runtimes: [
        ...data.runtimes,
        { key: 'webgpu', label: '(a) browser WebGPU', stages: { 'VQ encode': { median: 9, p90: 9 } } },
      ],
    });
    expect(svg).toContain('A &lt;b&gt; &amp; &quot;c&quot;');
    expect(svg).not.toContain('WebGPU');
  });

  it('puts 1-2-5 ticks across the decades of the data', () => {
    expect(logTicks(1, 1000)).toEqual([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]);
    expect(logTicks(0.1, 1)).toEqual([0.1, 0.2, 0.5, 1]);
  });
});
