#!/usr/bin/env node
/**
 * node bench/ab.mjs — A/B of browser-WASM configurations of the same model stages, interleaved in one run so that
 * every configuration sees the same machine load: for each round, each configuration runs BENCH_AB_BATCH timed runs
 * of every stage in turn; medians over all rounds and the ratio to the first configuration are printed.
 * Configurations are named in BENCH_AB (comma-separated; `base` is the app's own session options); the catalogue is
 * CONFIGS in bench/ab-configs.mjs. A configuration may point a stage at another graph file (BENCH_AB_DIR/<role>.onnx) to compare
 * export variants. Not a test; the numbers are only as good as the machine is quiet.
 *
 * Env: BENCH_MODEL (toklip-tiny), BENCH_MODEL_DIR (public/models), BENCH_AB (base,spin), BENCH_AB_STAGES
 * (vq_encoder,vq_decoder,semantic_encoder,text_encoder), BENCH_AB_ROUNDS (6), BENCH_AB_BATCH (5), BENCH_AB_WARMUP (3),
 * BENCH_AB_THREADS (2), BENCH_AB_DIR (a folder of alternative graphs for the `alt*` configurations), BENCH_PORT (4189).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIGS, graphFor } from './ab-configs.mjs';
import { startLab } from './browser-ort.mjs';
import { benchInput } from './inputs.mjs';
import { fmtMs, parseOrtProfile } from './report.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MODEL = process.env.BENCH_MODEL ?? 'toklip-tiny';
const FOLDER = resolve(process.env.BENCH_MODEL_DIR ?? resolve(ROOT, 'public/models'), MODEL);
const manifest = JSON.parse(readFileSync(resolve(FOLDER, 'manifest.json'), 'utf8'));
const CHROMIUM = JSON.parse(readFileSync(resolve(ROOT, 'e2e/chromium.json'), 'utf8'));
const THREADS = Number(process.env.BENCH_AB_THREADS ?? 2);
const ROUNDS = Number(process.env.BENCH_AB_ROUNDS ?? 6);
const BATCH = Number(process.env.BENCH_AB_BATCH ?? 5);
const WARMUP = Number(process.env.BENCH_AB_WARMUP ?? 3);
const STAGES = (process.env.BENCH_AB_STAGES ?? 'vq_encoder,vq_decoder,semantic_encoder,text_encoder').split(
  ',',
);

const NAMES = (process.env.BENCH_AB ?? 'base,spin').split(',');
for (const n of NAMES)
  if (!CONFIGS[n]) throw new Error(`unknown configuration ${n}; known: ${Object.keys(CONFIGS)}`);

const graph = (role, alt) => graphFor(FOLDER, manifest, role, { alt });

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  const lab = await startLab({
    port: Number(process.env.BENCH_PORT ?? 4189),
    chromiumPath: process.env.CHROMIUM_PATH ?? CHROMIUM.executablePath,
    args: CHROMIUM.args,
  });
  const load = os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  const times = {};
  try {
    const workers = {};
    for (const n of NAMES) {
      const c = CONFIGS[n];
      const w = (workers[n] = await lab.worker(c.threads ?? THREADS));
      for (const role of STAGES) {
        const r = await w.create(role, graph(role, c.alt), c.options);
        w.actualThreads = r.threads;
        await w.time(role, benchInput(manifest, role), WARMUP, 0);
        (times[n] ??= {})[role] = [];
      }
    }
    for (let round = 0; round < ROUNDS; round++) {
      console.error(`[ab] round ${round + 1}/${ROUNDS}`);
      for (const role of STAGES)
        for (const n of round % 2 ? [...NAMES].reverse() : NAMES)
          times[n][role].push(...(await workers[n].time(role, benchInput(manifest, role), BATCH, 0)));
    }
    const lines = [
      `A/B, Chromium ${lab.version}, ${MODEL}, ${THREADS} WASM threads unless named, ${ROUNDS}×${BATCH} runs per cell ` +
        `interleaved; load average at start ${load}; median ms (ratio to ${NAMES[0]})`,
      '',
      '| config | ' + STAGES.join(' | ') + ' |',
      '| --- | ' + STAGES.map(() => '---:').join(' | ') + ' |',
    ];
    for (const n of NAMES)
      lines.push(
        `| ${n} (${workers[n].actualThreads} thr) | ` +
          STAGES.map((role) => {
            const m = median(times[n][role]);
            return `${fmtMs(m)} (${(m / median(times[NAMES[0]][role])).toFixed(2)}×)`;
          }).join(' | ') +
          ' |',
      );
    // Load-independent: how many kernels each configuration runs per stage (one profiled run each).
    lines.push('', 'Kernels run per call (onnxruntime profiler, one run): ' + STAGES.join(' / '));
    for (const n of NAMES) {
      const counts = [];
      for (const role of STAGES) {
        const id = `${role}#profile`;
        await workers[n].create(id, graph(role, CONFIGS[n].alt), {
          ...CONFIGS[n].options,
          enableProfiling: true,
        });
        counts.push(parseOrtProfile(await workers[n].profile(id, benchInput(manifest, role), 1)).length);
        await workers[n].release(id);
      }
      lines.push(`- ${n}: ${counts.join(' / ')}`);
    }
    console.log(lines.join('\n'));
  } finally {
    await lab.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
