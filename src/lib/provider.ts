/** Execution-provider choice (pure, so it can be unit-tested). */

export type Provider = 'webgpu' | 'wasm';

export interface AdapterFacts {
  /** navigator.gpu exists */
  hasWebGpu: boolean;
  /** requestAdapter() returned an adapter */
  adapterFound: boolean;
  isFallbackAdapter?: boolean;
  vendor?: string;
  architecture?: string;
  description?: string;
  device?: string;
}

export interface ProviderChoice {
  provider: Provider;
  reason: string;
  forced: boolean;
}

/** How the UI and messages name a provider ("webgpu" → "WebGPU"); other strings (a manifest may list any) as given. */
export function providerName(p: string): string {
  return p === 'webgpu' ? 'WebGPU' : p === 'wasm' ? 'WASM' : p;
}

export function parseProvider(v: string | null | undefined): Provider | null {
  return v === 'webgpu' || v === 'wasm' ? v : null;
}

export function isSoftwareAdapter(f: AdapterFacts): boolean {
  if (f.isFallbackAdapter) return true;
  const text = [f.vendor, f.architecture, f.description, f.device].filter(Boolean).join(' ').toLowerCase();
  return /swiftshader|llvmpipe|lavapipe|softpipe|warp|basic render/.test(text);
}

export function describeAdapter(f: Pick<AdapterFacts, 'vendor' | 'architecture' | 'description'>): string {
  const parts = [f.vendor, f.architecture, f.description].filter((s) => s && s.length > 0);
  return parts.length ? parts.join(' / ') : 'unknown adapter';
}

/**
 * WebGPU only for a hardware adapter; a software adapter (SwiftShader & co.) is ~100× slower than WASM here.
 * A forced provider (URL ?ep= or the UI) wins.
 */
export function chooseProvider(facts: AdapterFacts, forced: Provider | null): ProviderChoice {
  if (forced === 'wasm') return { provider: 'wasm', reason: 'WASM chosen by you', forced: true };
  if (forced === 'webgpu') {
    if (!facts.hasWebGpu || !facts.adapterFound) {
      return {
        provider: 'wasm',
        reason: 'WebGPU was requested but no WebGPU adapter is available',
        forced: true,
      };
    }
    const kind = isSoftwareAdapter(facts) ? 'software' : 'hardware';
    return {
      provider: 'webgpu',
      reason: `WebGPU chosen by you (${kind} adapter: ${describeAdapter(facts)})`,
      forced: true,
    };
  }
  if (!facts.hasWebGpu) return { provider: 'wasm', reason: 'this browser has no WebGPU', forced: false };
  if (!facts.adapterFound) return { provider: 'wasm', reason: 'no WebGPU adapter available', forced: false };
  if (isSoftwareAdapter(facts)) {
    return {
      provider: 'wasm',
      reason: `the WebGPU adapter is a software renderer (${describeAdapter(facts)}), slower than WASM`,
      forced: false,
    };
  }
  return { provider: 'webgpu', reason: `hardware WebGPU adapter (${describeAdapter(facts)})`, forced: false };
}
