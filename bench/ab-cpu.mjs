#!/usr/bin/env node
/**
 * node bench/ab-cpu.mjs — the same A/B as bench/ab.mjs, but in Node with onnxruntime-web's WASM build (the same
 * ort-wasm-simd-threaded.asyncify.wasm the app loads), 1 thread, timed in process CPU time (process.cpuUsage)
 * as well as wall time. CPU time of a single-threaded run hardly depends on what else the machine runs, so it
 * can rank graph-level changes (optimisation level, free-dimension overrides, export variants) on a loaded
 * machine where wall-time A/Bs drown in noise. It says nothing about threading (spinning, thread count) and
 * Node's V8 is older than Chromium's: confirm a winner with bench/ab.mjs on an idle machine.
 *
 * Env: as bench/ab.mjs (BENCH_AB, BENCH_AB_STAGES, BENCH_AB_ROUNDS, BENCH_AB_BATCH, BENCH_AB_WARMUP, BENCH_AB_DIR).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-web';
import { CONFIGS, graphFor } from './ab-configs.mjs';
import { benchInput } from './inputs.mjs';
import { fmtMs } from './report.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MODEL = process.env.BENCH_MODEL ?? 'toklip-tiny';
const FOLDER = resolve(process.env.BENCH_MODEL_DIR ?? resolve(ROOT, 'public/models'), MODEL);
const manifest = JSON.parse(readFileSync(resolve(FOLDER, 'manifest.json'), 'utf8'));
const ROUNDS = Number(process.env.BENCH_AB_ROUNDS ?? 6);
const BATCH = Number(process.env.BENCH_AB_BATCH ?? 5);
const WARMUP = Number(process.env.BENCH_AB_WARMUP ?? 3);
const STAGES = (process.env.BENCH_AB_STAGES ?? 'vq_encoder,vq_decoder,semantic_encoder,text_encoder').split(
  ',',
);
const NAMES = (process.env.BENCH_AB ?? 'base,freedims').split(',');
for (const n of NAMES)
  if (!CONFIGS[n]) throw new Error(`unknown configuration ${n}; known: ${Object.keys(CONFIGS)}`);

const dist = resolve(ROOT, 'node_modules/onnxruntime-web/dist');
ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = {
  mjs: resolve(dist, 'ort-wasm-simd-threaded.asyncify.mjs'),
  wasm: resolve(dist, 'ort-wasm-simd-threaded.asyncify.wasm'),
};
ort.env.logLevel = 'error';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function timed(sess, x) {
  const t = new ort.Tensor(x.type, x.data.slice(), x.dims);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await sess.run({ [sess.inputNames[0]]: t });
  for (const v of Object.values(r)) {
    v.data.slice();
    v.dispose();
  }
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  t.dispose();
  return { wall, cpu: (c.user + c.system) / 1000 };
}

const sessions = {};
const times = {};
for (const n of NAMES)
  for (const role of STAGES) {
    const s = await ort.InferenceSession.create(
      graphFor(FOLDER, manifest, role, CONFIGS[n]),
      CONFIGS[n].options,
    );
    (sessions[n] ??= {})[role] = s;
    for (let i = 0; i < WARMUP; i++) await timed(s, benchInput(manifest, role));
    (times[n] ??= {})[role] = { wall: [], cpu: [] };
  }
for (let round = 0; round < ROUNDS; round++) {
  console.error(`[ab-cpu] round ${round + 1}/${ROUNDS}`);
  for (const role of STAGES)
    for (const n of round % 2 ? [...NAMES].reverse() : NAMES)
      for (let i = 0; i < BATCH; i++) {
        const r = await timed(sessions[n][role], benchInput(manifest, role));
        times[n][role].wall.push(r.wall);
        times[n][role].cpu.push(r.cpu);
      }
}
const lines = [
  `A/B in Node ${process.version} (onnxruntime-web WASM, 1 thread), ${MODEL}, ${ROUNDS}×${BATCH} runs per cell ` +
    `interleaved; median CPU ms (ratio to ${NAMES[0]}) [median wall ms]`,
  '',
  '| config | ' + STAGES.join(' | ') + ' |',
  '| --- | ' + STAGES.map(() => '---:').join(' | ') + ' |',
];
for (const n of NAMES)
  lines.push(
    `| ${n} | ` +
      STAGES.map((role) => {
        const c = median(times[n][role].cpu);
        return `${fmtMs(c)} (${(c / median(times[NAMES[0]][role].cpu)).toFixed(2)}×) [${fmtMs(median(times[n][role].wall))}]`;
      }).join(' | ') +
      ' |',
  );
console.log(lines.join('\n'));
