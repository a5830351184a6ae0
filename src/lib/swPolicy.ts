/**
 * What the service worker (src/sw/sw.ts) does with each request. Pure, so the rules are unit-tested in Node.
 *
 * - The app shell (index.html, hashed assets, the onnxruntime runtime under ort/, icons) is precached at install
 *   in a cache named after the build, and served cache-first: a new build is a new cache, the old one is deleted.
 * - Navigations to the app and model folders' small files (manifest.json, samples/) go to the network first
 *   and fall back to the cached copy, so a host can update a model folder without a rebuild and still work
 *   offline.
 * - Everything else — model graphs, tables, Range reads, other origins, other methods — is not touched: the
 *   inference worker already keeps every model file it verified against the manifest's sha256 in its own cache
 *   (toklip-models-v1), so a second copy here would only double the storage.
 */

export const APP_CACHE_PREFIX = 'toklip-app-';

/** Written into sw.js by the build (vite-plugins/pwa.ts). */
export interface SwBuild {
  /** hash of every precached file's name and content */
  version: string;
  /** paths relative to the service worker's scope */
  precache: string[];
}

export type Strategy = 'cache-first' | 'network-first';

export interface Route {
  strategy: Strategy;
  /** path relative to the scope: the cache key */
  key: string;
}

export interface RequestFacts {
  url: string;
  method: string;
  mode: string;
  /** the request carries a Range header */
  range: boolean;
}

export function appCacheName(version: string): string {
  return `${APP_CACHE_PREFIX}${version}`;
}

/** Caches of earlier builds; never the model cache or anything else on the origin. */
export function isStaleAppCache(name: string, version: string): boolean {
  return name.startsWith(APP_CACHE_PREFIX) && name !== appCacheName(version);
}

const MODEL_SMALL_FILE = /^models\/[^/]+\/(manifest\.json|samples\/[^/]+)$/;

/** How to answer a request, or null to leave it to the network untouched. */
export function routeFor(req: RequestFacts, scope: string, precache: ReadonlySet<string>): Route | null {
  if (req.method !== 'GET' || req.range) return null;
  const url = new URL(req.url);
  const base = new URL(scope);
  if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname)) return null;
  const rel = decodeURIComponent(url.pathname.slice(base.pathname.length));
  if (req.mode === 'navigate') {
    // only the app's own page: a navigation to, say, a model card must not turn into the app offline
    return rel === '' || rel === 'index.html' ? { strategy: 'network-first', key: 'index.html' } : null;
  }
  if (MODEL_SMALL_FILE.test(rel)) return { strategy: 'network-first', key: rel };
  if (precache.has(rel)) return { strategy: 'cache-first', key: rel };
  return null;
}

/** The files of a model folder the build precaches: its manifest and the samples it lists. */
export function modelShellFiles(folder: string, manifest: { samples?: { file: string }[] }): string[] {
  const out = [`${folder}manifest.json`];
  for (const s of manifest.samples ?? []) {
    const path = `${folder}${s.file}`;
    if (MODEL_SMALL_FILE.test(path)) out.push(path);
  }
  return out;
}
