/** Probes navigator.gpu for the facts the provider choice needs (browser only). */
import type { AdapterFacts } from '../lib/provider';

export async function probeWebGpu(): Promise<AdapterFacts> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return { hasWebGpu: false, adapterFound: false };
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return { hasWebGpu: true, adapterFound: false };
    const info = adapter.info as GPUAdapterInfo | undefined;
    return {
      hasWebGpu: true,
      adapterFound: true,
      isFallbackAdapter:
        (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter ??
        info?.isFallbackAdapter,
      vendor: info?.vendor,
      architecture: info?.architecture,
      description: info?.description,
      device: info?.device,
    };
  } catch {
    return { hasWebGpu: true, adapterFound: false };
  }
}
