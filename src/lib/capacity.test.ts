import { describe, expect, it } from 'vitest';
import {
  refusal,
  TABLE_WHOLE_MAX_BYTES,
  tableMode,
  WASM_HEAP_LIMIT_BYTES,
  wasmNeed,
  type GpuFacts,
} from './capacity';
import { validateManifest, type Manifest } from './manifest';
import { sampleManifest, sampleOfficialManifest } from './testutil';

const GiB = 2 ** 30;
const gpu = (over: Partial<GpuFacts> = {}): GpuFacts => ({
  adapter: 'test adapter',
  features: ['shader-f16'],
  maxBufferSize: 4 * GiB,
  maxStorageBufferBindingSize: 2 * GiB,
  ...over,
});

function official(edit: (m: Record<string, unknown>) => void = () => {}): Manifest {
  const m = sampleOfficialManifest();
  edit(m);
  return validateManifest(m);
}

describe('refusal', () => {
  it('lets the TokLIP-Tiny manifest (no variant, no memory) through everywhere', () => {
    const m = validateManifest(sampleManifest());
    expect(refusal(m, { provider: 'wasm', gpu: null, table: null })).toBeNull();
    expect(refusal(m, { provider: 'webgpu', gpu: gpu({ features: [] }), table: null })).toBeNull();
  });

  it('refuses a provider the variant excludes', () => {
    const r = refusal(official(), { provider: 'wasm', gpu: null, table: 'range' });
    expect(r).toBe(
      'This fp16 export runs on WebGPU only (variant.providers), but the app is using WASM. Open it where ' +
        'WebGPU is available, or load an int8 or fp32 export of the model.',
    );
  });

  it('refuses a missing WebGPU feature, naming it and the adapter', () => {
    const r = refusal(official(), {
      provider: 'webgpu',
      gpu: gpu({ features: ['subgroups'] }),
      table: 'range',
    });
    expect(r).toContain('needs the WebGPU feature "shader-f16" (variant.requires)');
    expect(r).toContain('this adapter (test adapter)');
    expect(refusal(official(), { provider: 'webgpu', gpu: null, table: 'range' })).toContain(
      'no WebGPU adapter is available',
    );
    expect(refusal(official(), { provider: 'webgpu', gpu: gpu(), table: 'range' })).toBeNull();
  });

  it('refuses a weight tensor larger than the device can bind, naming both numbers', () => {
    const m = official((x) => ((x.memory as Record<string, number>).largest_tensor_bytes = 2 * GiB + 1));
    expect(refusal(m, { provider: 'webgpu', gpu: gpu(), table: 'range' })).toBe(
      "This fp16 export's largest weight tensor is 2.00 GiB (2147483649 bytes) (memory.largest_tensor_bytes), " +
        'more than this WebGPU device can hold in one buffer: maxStorageBufferBindingSize is 2.00 GiB (2147483648 bytes).',
    );
    const small = gpu({ maxBufferSize: 256 * 2 ** 20, maxStorageBufferBindingSize: 2 * GiB });
    expect(refusal(m, { provider: 'webgpu', gpu: small, table: 'range' })).toContain(
      'maxBufferSize is 256.0 MiB (268435456 bytes)',
    );
    expect(
      refusal(m, { provider: 'webgpu', gpu: gpu({ maxStorageBufferBindingSize: 4 * GiB }), table: 'range' }),
    ).toBeNull();
  });

  it('refuses on WASM what a 32-bit heap cannot hold, counting a table downloaded whole', () => {
    const wasmOk = (x: Record<string, unknown>) =>
      (x.variant = { dtype: 'int8', providers: ['webgpu', 'wasm'], requires: [] });
    expect(WASM_HEAP_LIMIT_BYTES).toBe(3.5 * GiB);
    const at = (peak: number) =>
      official((x) => {
        wasmOk(x);
        (x.memory as Record<string, number>).peak_estimate_bytes = peak;
      });
    expect(refusal(at(WASM_HEAP_LIMIT_BYTES), { provider: 'wasm', gpu: null, table: 'range' })).toBeNull();
    const r = refusal(at(WASM_HEAP_LIMIT_BYTES + 1), { provider: 'wasm', gpu: null, table: 'range' });
    expect(r).toBe(
      'This int8 export needs about 3.50 GiB (3758096385 bytes) on WASM (memory.peak_estimate_bytes), more than the ' +
        '3.50 GiB (3758096384 bytes) a 32-bit WebAssembly heap can give it (4 GiB less 512 MiB for the runtime and ' +
        'the graph being loaded). Load an int8 export, or use WebGPU.',
    );
    const withTable = at(WASM_HEAP_LIMIT_BYTES - 1000);
    expect(refusal(withTable, { provider: 'wasm', gpu: null, table: 'range' })).toBeNull();
    expect(refusal(withTable, { provider: 'wasm', gpu: null, table: 'whole' })).toContain(
      'plus the 562.5 MiB token table downloaded whole',
    );
    expect(wasmNeed(withTable, 'whole')).toBe(WASM_HEAP_LIMIT_BYTES - 1000 + 589824000);
  });
});

describe('tableMode', () => {
  it('downloads small tables whole, reads large ones by range, obeys a preference', () => {
    expect(tableMode(validateManifest(sampleManifest()))).toBeNull();
    expect(tableMode(official())).toBe('range');
    const small = official((x) => {
      const t = (x.text as Record<string, Record<string, number>>).embedding_table!;
      t.rows = Math.floor(TABLE_WHOLE_MAX_BYTES / t.row_bytes!);
      t.bytes = t.rows * t.row_bytes!;
      (x.files as Record<string, unknown>[]).find((f) => f.role === 'text_embedding')!.bytes = t.bytes;
    });
    expect(tableMode(small)).toBe('whole');
    expect(tableMode(small, 'range')).toBe('range');
    expect(tableMode(official(), 'whole')).toBe('whole');
  });
});
