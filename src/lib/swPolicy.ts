/**
 * What the service worker (src/sw/sw.ts) does with each request. Pure, so the rules are unit-tested in Node.
 *
 * - The app shell (index.html, hashed assets, the onnxruntime runtime under ort/, icons) is precached at install
 *   in a cache named after the build; a new build is a new cache, the old one is deleted.
 * - Files with a content hash in their name (assets/) are served cache-first: they cannot be stale.
 * - The other shell files keep their names across builds (index.html, ort/…), so they go to the network first
 *   and fall back to this build's precached copy, which is never overwritten: a page of a newer build, loaded
 *   while the older service worker still runs, cannot get an older onnxruntime wasm than its own JavaScript,
 *   and the offline copy of index.html always matches the cached assets.
 * - Model folders' small files (manifest.json, samples/) go to the network first too, and each answer is stored,
 *   so a host can update a model folder without a rebuild and it still works offline.
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
  /** store what the network answers under `key` */
  store: boolean;
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

/** Vite's output folder: every file name there carries a hash of its content */
const HASHED_DIR = 'assets/';
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
    return rel === '' || rel === 'index.html'
      ? { strategy: 'network-first', key: 'index.html', store: false }
      : null;
  }
  if (MODEL_SMALL_FILE.test(rel)) return { strategy: 'network-first', key: rel, store: true };
  if (!precache.has(rel)) return null;
  return rel.startsWith(HASHED_DIR)
    ? { strategy: 'cache-first', key: rel, store: true }
    : { strategy: 'network-first', key: rel, store: false };
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
