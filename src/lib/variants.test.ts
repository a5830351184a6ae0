import { describe, expect, it } from 'vitest';
import type { GpuFacts } from './capacity';
import { ManifestError, validateManifest, type Manifest } from './manifest';
import { sampleOfficialManifest } from './testutil';
import { candidateVariants, dtypePreference } from './variants';

const gpu = (features: string[]): GpuFacts => ({
  adapter: 'test',
  features,
  maxBufferSize: 2 ** 30,
  maxStorageBufferBindingSize: 2 ** 30,
});

function withVariants(dtype: string, variants: unknown): Manifest {
  const m = sampleOfficialManifest();
  (m.variant as Record<string, unknown>).dtype = dtype;
  m.variants = variants;
  return validateManifest(m);
}

const FAMILY = ['fp32', 'int8', 'fp16', 'q4', 'q4f16'].map((d) => ({ dtype: d, path: `../m-${d}/` }));

describe('candidateVariants', () => {
  it('orders siblings by fidelity among what the browser computes, leaving out the folder itself', () => {
    expect(candidateVariants(withVariants('fp16', FAMILY), 'wasm', null).map((v) => v.dtype)).toEqual([
      'int8',
      'q4',
      'fp32',
    ]);
    expect(
      candidateVariants(withVariants('fp32', FAMILY), 'webgpu', gpu(['shader-f16'])).map((v) => v.dtype),
    ).toEqual(['fp16', 'int8', 'q4f16', 'q4']);
    // an adapter without shader-f16 never gets an fp16 graph
    expect(candidateVariants(withVariants('q4f16', FAMILY), 'webgpu', gpu([])).map((v) => v.dtype)).toEqual([
      'int8',
      'q4',
      'fp32',
    ]);
  });

  it('has nothing to offer without variants or with unknown dtypes only', () => {
    expect(candidateVariants(withVariants('fp16', undefined), 'wasm', null)).toEqual([]);
    expect(
      candidateVariants(withVariants('fp16', [{ dtype: 'bf16', path: '../m-bf16/' }]), 'wasm', null),
    ).toEqual([]);
  });

  it('prefers fp16 only where the GPU computes in fp16', () => {
    expect(dtypePreference('webgpu', gpu(['shader-f16']))[0]).toBe('fp16');
    expect(dtypePreference('webgpu', gpu([]))).not.toContain('fp16');
    expect(dtypePreference('wasm', gpu(['shader-f16']))).not.toContain('q4f16');
  });
});

describe('manifest.variants', () => {
  it('accepts sibling folders only', () => {
    for (const path of ['../m-int8/', '../toklip-s-256.q4/']) {
      expect(() => withVariants('fp16', [{ dtype: 'int8', path }])).not.toThrow();
    }
    for (const path of [
      '../../',
      '../a/b/',
      'm-int8/',
      '/m-int8/',
      '../m-int8',
      'https://x.org/m/',
      '../../etc/',
    ]) {
      expect(() => withVariants('fp16', [{ dtype: 'int8', path }]), path).toThrow(ManifestError);
    }
    expect(() => withVariants('fp16', { dtype: 'int8' })).toThrow(/variants/);
    expect(() => withVariants('fp16', [{ dtype: '', path: '../m/' }])).toThrow(/dtype/);
  });
});
