import { describe, expect, it } from 'vitest';
import { appCacheName, isStaleAppCache, modelShellFiles, routeFor, type RequestFacts } from './swPolicy';

const SCOPE = 'https://example.org/some/sub/path/';
const PRECACHE = new Set(['index.html', 'assets/index-abc.js', 'ort/ort-wasm-simd-threaded.asyncify.wasm']);

function req(url: string, over: Partial<RequestFacts> = {}): RequestFacts {
  return { url: new URL(url, SCOPE).href, method: 'GET', mode: 'cors', range: false, ...over };
}

describe('routeFor', () => {
  it('serves precached hashed assets from the cache first', () => {
    expect(routeFor(req('assets/index-abc.js'), SCOPE, PRECACHE)).toEqual({
      strategy: 'cache-first',
      key: 'assets/index-abc.js',
      store: true,
    });
  });

  it('sends precached files without a hash to the network first and never overwrites their copy', () => {
    expect(routeFor(req('ort/ort-wasm-simd-threaded.asyncify.wasm?v=1'), SCOPE, PRECACHE)).toEqual({
      strategy: 'network-first',
      key: 'ort/ort-wasm-simd-threaded.asyncify.wasm',
      store: false,
    });
  });

  it('sends navigations to the app to the network first, falling back to index.html', () => {
    for (const u of ['./', './?ep=wasm&model=x', 'index.html'])
      expect(routeFor(req(u, { mode: 'navigate' }), SCOPE, PRECACHE)).toEqual({
        strategy: 'network-first',
        key: 'index.html',
        store: false,
      });
    // another page of the site (a model card) is not the app
    expect(
      routeFor(req('models/toklip-tiny/MODEL_CARD.md', { mode: 'navigate' }), SCOPE, PRECACHE),
    ).toBeNull();
  });

  it('keeps model manifests and samples network-first, whether precached or not', () => {
    for (const p of ['models/toklip-tiny/manifest.json', 'models/other/samples/a b.jpg'])
      expect(routeFor(req(p), SCOPE, PRECACHE)).toEqual({ strategy: 'network-first', key: p, store: true });
  });

  it('leaves model graphs, Range reads, other methods, origins and paths to the network', () => {
    expect(routeFor(req('models/toklip-tiny/vq_encoder.onnx'), SCOPE, PRECACHE)).toBeNull();
    expect(routeFor(req('models/toklip-tiny/manifest.json', { range: true }), SCOPE, PRECACHE)).toBeNull();
    expect(routeFor(req('assets/index-abc.js', { method: 'POST' }), SCOPE, PRECACHE)).toBeNull();
    expect(routeFor(req('https://cdn.example.com/some/sub/path/index.html'), SCOPE, PRECACHE)).toBeNull();
    expect(routeFor(req('/some/other/assets/index-abc.js'), SCOPE, PRECACHE)).toBeNull();
    expect(routeFor(req('assets/unknown.js'), SCOPE, PRECACHE)).toBeNull();
  });
});

describe('caches', () => {
  it('deletes only earlier builds of the app cache, never the model cache', () => {
    expect(isStaleAppCache(appCacheName('old'), 'new')).toBe(true);
    expect(isStaleAppCache(appCacheName('new'), 'new')).toBe(false);
    expect(isStaleAppCache('toklip-models-v1', 'new')).toBe(false);
  });
});

describe('modelShellFiles', () => {
  it('lists the manifest and the samples inside the folder', () => {
    expect(
      modelShellFiles('models/m/', {
        samples: [{ file: 'samples/a.jpg' }, { file: '../escape.jpg' }, { file: 'samples/deep/b.jpg' }],
      }),
    ).toEqual(['models/m/manifest.json', 'models/m/samples/a.jpg']);
    expect(modelShellFiles('models/m/', {})).toEqual(['models/m/manifest.json']);
  });
});
