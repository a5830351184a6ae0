import { describe, expect, it } from 'vitest';
import { chooseProvider, isSoftwareAdapter, parseProvider } from './provider';

const hw = { hasWebGpu: true, adapterFound: true, vendor: 'nvidia', architecture: 'ampere' };
const sw = { hasWebGpu: true, adapterFound: true, vendor: 'google', architecture: 'swiftshader' };

describe('provider choice', () => {
  it('parses the URL parameter', () => {
    expect(parseProvider('webgpu')).toBe('webgpu');
    expect(parseProvider('wasm')).toBe('wasm');
    expect(parseProvider('gpu')).toBeNull();
    expect(parseProvider(null)).toBeNull();
  });

  it('detects software adapters', () => {
    expect(isSoftwareAdapter(sw)).toBe(true);
    expect(isSoftwareAdapter({ ...hw, isFallbackAdapter: true })).toBe(true);
    expect(
      isSoftwareAdapter({ hasWebGpu: true, adapterFound: true, description: 'SwiftShader Device (Subzero)' }),
    ).toBe(true);
    expect(isSoftwareAdapter(hw)).toBe(false);
  });

  it('uses WebGPU only on hardware unless forced', () => {
    expect(chooseProvider(hw, null).provider).toBe('webgpu');
    expect(chooseProvider(sw, null)).toMatchObject({ provider: 'wasm', forced: false });
    expect(chooseProvider({ hasWebGpu: false, adapterFound: false }, null).provider).toBe('wasm');
    expect(chooseProvider(sw, 'webgpu')).toMatchObject({ provider: 'webgpu', forced: true });
    expect(chooseProvider(hw, 'wasm')).toMatchObject({ provider: 'wasm', forced: true });
    expect(chooseProvider({ hasWebGpu: true, adapterFound: false }, 'webgpu').provider).toBe('wasm');
  });
});
