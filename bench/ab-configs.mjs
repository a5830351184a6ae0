/**
 * The configurations bench/ab.mjs and bench/ab-cpu.mjs compare: name → { threads?, options, alt? }. `base` is the
 * app's own WASM session options (src/worker/inference.worker.ts createSession); `alt*` read the stage's graph from
 * BENCH_AB_DIR/<role>.onnx (an export variant) instead of the model folder.
 */
import { resolve } from 'node:path';
import { APP_WASM_OPTIONS } from './browser-ort.mjs';

const noExtra = { ...APP_WASM_OPTIONS };
delete noExtra.extra;

export const CONFIGS = {
  base: { options: APP_WASM_OPTIONS },
  // Without the app's allow_spinning '0'. onnxruntime-web 1.30 runs every session on its global thread pool
  // (its session log: "Using global/env threadpools since use_per_session_threads_ is false"), where per-session
  // spinning options do not apply, so this should time the same as base.
  spin: { options: noExtra },
  t1: { threads: 1, options: APP_WASM_OPTIONS },
  extended: { options: { ...APP_WASM_OPTIONS, graphOptimizationLevel: 'extended' } },
  basic: { options: { ...APP_WASM_OPTIONS, graphOptimizationLevel: 'basic' } },
  // onnxruntime-web passes !!option, so left unset both are OFF (native defaults: both on)
  mem: { options: { ...APP_WASM_OPTIONS, enableMemPattern: true, enableCpuMemArena: true } },
  memfreedims: {
    options: {
      ...APP_WASM_OPTIONS,
      enableMemPattern: true,
      enableCpuMemArena: true,
      freeDimensionOverrides: { B: 1 },
    },
  },
  // the exported graphs name their batch dimension B; the app feeds images one at a time
  freedims: { options: { ...APP_WASM_OPTIONS, freeDimensionOverrides: { B: 1 } } },
  // SiLU left as Sigmoid + Mul instead of ORT's fused QuickGelu kernel
  noquickgelu: {
    options: {
      ...APP_WASM_OPTIONS,
      extra: { ...APP_WASM_OPTIONS.extra, optimization: { disable_specified_optimizers: 'QuickGeluFusion' } },
    },
  },
  alt: { options: APP_WASM_OPTIONS, alt: true },
  altfreedims: { options: { ...APP_WASM_OPTIONS, freeDimensionOverrides: { B: 1 } }, alt: true },
};

export function graphFor(folder, manifest, role, config) {
  if (config.alt) {
    if (!process.env.BENCH_AB_DIR) throw new Error('alt configurations need BENCH_AB_DIR');
    return resolve(process.env.BENCH_AB_DIR, `${role}.onnx`);
  }
  return resolve(folder, manifest.files.find((f) => f.role === role).path);
}
