/**
 * Can this browser run this model folder? Decided from the manifest's `variant` and `memory` (docs/CONTRACT.md,
 * "Variant, dtypes, memory") before anything is downloaded, so a refusal costs nothing and the model in use
 * stays. Pure: the worker supplies what it found out about the WebGPU adapter/device.
 */
import { formatBytes } from './format';
import { embeddingTable, type Manifest } from './manifest';
import { providerName, type Provider } from './provider';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

/**
 * What the model may use of onnxruntime-web's 32-bit WebAssembly heap (4 GiB addressable). The 512 MiB kept
 * back hold the runtime itself and the copy of a graph or external-data shard (at most 512 MiB by default)
 * that sits in the heap while its session is created.
 */
export const WASM_HEAP_LIMIT_BYTES = 4 * GiB - 512 * MiB;

/** Tables up to this size are downloaded whole (and sha256-verified); larger ones are read by HTTP Range. */
export const TABLE_WHOLE_MAX_BYTES = 64 * MiB;

export type TableFetch = 'auto' | 'whole' | 'range';

/** What the WebGPU device will offer: the device ORT made if there is one, else the adapter it will use. */
export interface GpuFacts {
  adapter: string;
  features: readonly string[];
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

export interface Capacity {
  provider: Provider;
  /** null: no WebGPU adapter could be found */
  gpu: GpuFacts | null;
  /** how the token-embedding table will be read (null: the model has none) */
  table: 'whole' | 'range' | null;
}

export function bytesText(n: number): string {
  return `${formatBytes(n)} (${n} bytes)`;
}

export function tableMode(manifest: Manifest, pref: TableFetch = 'auto'): 'whole' | 'range' | null {
  const t = embeddingTable(manifest);
  if (!t) return null;
  if (pref !== 'auto') return pref;
  return t.bytes <= TABLE_WHOLE_MAX_BYTES ? 'whole' : 'range';
}

/** The usable WebGPU binding size: a weight tensor must fit both in one buffer and in one storage binding. */
export function gpuTensorLimit(gpu: GpuFacts): number {
  return Math.min(gpu.maxBufferSize, gpu.maxStorageBufferBindingSize);
}

/** Bytes the WASM heap must hold: every graph with activations, and the table when it is downloaded whole. */
export function wasmNeed(manifest: Manifest, table: Capacity['table']): number | null {
  const peak = manifest.memory?.peak_estimate_bytes;
  if (peak === undefined) return null;
  return peak + (table === 'whole' ? (manifest.text.embedding_table?.bytes ?? 0) : 0);
}

/** null when the model can be loaded here, else a sentence that names the numbers and what to do instead. */
export function refusal(manifest: Manifest, c: Capacity): string | null {
  const v = manifest.variant;
  const what = v ? `This ${v.dtype} export` : 'This model';
  const providers = v?.providers;
  if (providers && !providers.includes(c.provider)) {
    return (
      `${what} runs on ${providers.map(providerName).join(' or ')} only (variant.providers), but the app is ` +
      `using ${providerName(c.provider)}. Open it where ${providers.map(providerName).join(' or ')} is available, ` +
      `or load an int8 or fp32 export of the model.`
    );
  }
  if (c.provider === 'webgpu') {
    const requires = v?.requires ?? [];
    if (requires.length && !c.gpu) {
      return `${what} needs the WebGPU feature ${requires.map((f) => `"${f}"`).join(', ')}, but no WebGPU adapter is available.`;
    }
    const missing = c.gpu ? requires.filter((f) => !c.gpu!.features.includes(f)) : [];
    if (c.gpu && missing.length) {
      return (
        `${what} needs the WebGPU feature ${missing.map((f) => `"${f}"`).join(', ')} (variant.requires), ` +
        `which this adapter (${c.gpu.adapter}) does not offer. Load an int8 or fp32 export of the model instead.`
      );
    }
    const largest = manifest.memory?.largest_tensor_bytes;
    if (c.gpu && largest !== undefined && largest > gpuTensorLimit(c.gpu)) {
      const which =
        c.gpu.maxBufferSize <= c.gpu.maxStorageBufferBindingSize
          ? 'maxBufferSize'
          : 'maxStorageBufferBindingSize';
      return (
        `${what}'s largest weight tensor is ${bytesText(largest)} (memory.largest_tensor_bytes), more than this ` +
        `WebGPU device can hold in one buffer: ${which} is ${bytesText(gpuTensorLimit(c.gpu))}.`
      );
    }
  } else {
    const need = wasmNeed(manifest, c.table);
    if (need !== null && need > WASM_HEAP_LIMIT_BYTES) {
      const table = manifest.text.embedding_table;
      const plus =
        c.table === 'whole' && table
          ? ` plus the ${formatBytes(table.bytes)} token table downloaded whole`
          : '';
      return (
        `${what} needs about ${bytesText(need)} on WASM (memory.peak_estimate_bytes${plus}), more than the ` +
        `${bytesText(WASM_HEAP_LIMIT_BYTES)} a 32-bit WebAssembly heap can give it (4 GiB less 512 MiB for the ` +
        `runtime and the graph being loaded). Load an int8 export, or use WebGPU.`
      );
    }
  }
  return null;
}
