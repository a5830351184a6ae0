/**
 * Which of a model's exported variants (manifest `variants`: sibling folders in other dtypes) to open when the
 * one asked for cannot run here. Fidelity first among what runs: fp16 only where the GPU computes in fp16,
 * int8 (near-lossless, a quarter of fp32) before the 4-bit ones, fp32 last (four times int8's download for a
 * difference no one sees). Whether a candidate really runs is decided by its own manifest (capacity.refusal).
 */
import type { GpuFacts } from './capacity';
import type { Manifest, ManifestVariantRef } from './manifest';
import type { Provider } from './provider';

export function dtypePreference(provider: Provider, gpu: GpuFacts | null): string[] {
  const f16 = provider === 'webgpu' && !!gpu?.features.includes('shader-f16');
  return f16 ? ['fp16', 'int8', 'q4f16', 'q4', 'fp32'] : ['int8', 'q4', 'fp32'];
}

/** The other variants worth trying, best first; dtypes this browser cannot compute in are left out. */
export function candidateVariants(
  manifest: Manifest,
  provider: Provider,
  gpu: GpuFacts | null,
): ManifestVariantRef[] {
  const order = dtypePreference(provider, gpu);
  const own = manifest.variant?.dtype;
  return (manifest.variants ?? [])
    .filter((v) => v.dtype !== own && order.includes(v.dtype))
    .sort((a, b) => order.indexOf(a.dtype) - order.indexOf(b.dtype));
}
