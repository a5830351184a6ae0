/**
 * Verified model files kept in Cache Storage, keyed by the source's key and the file's sha256, so a changed file
 * is never served from the cache and a model folder opened twice is read once. Beside them, one small JSON record
 * per model folder (its manifest's name and files, and when it was last loaded) in a second cache, for the cache
 * manager (src/components/CacheManager.tsx).
 */
import {
  entryKey,
  groupEntries,
  parseMeta,
  type CachedEntry,
  type CachedModel,
  type ModelMeta,
} from '../lib/cacheEntries';
import type { Manifest, ManifestFile } from '../lib/manifest';
import type { CacheFailure } from './protocol';
import type { ModelSource } from './sources';
import { matchesFile } from './verify';

export const CACHE_NAME = 'toklip-models-v1';
export const META_CACHE_NAME = 'toklip-models-meta';

function failure(e: unknown): CacheFailure {
  const quota = e instanceof DOMException && e.name === 'QuotaExceededError';
  return { reason: quota ? 'quota' : 'error', detail: e instanceof Error ? e.message : String(e) };
}

export class ModelCache {
  /** one report per load: every later file would fail for the same reason */
  private reported = false;

  private constructor(
    private readonly cache: Cache,
    private readonly onFailure: (f: CacheFailure) => void,
  ) {}

  /**
   * null where Cache Storage is missing or refused (private windows, opaque origins): files are then re-read.
   * `onFailure` hears (once) that a file or record could not be stored, e.g. because the quota is full.
   */
  static async open(
    use: boolean,
    onFailure: (f: CacheFailure) => void = () => undefined,
  ): Promise<ModelCache | null> {
    if (!use || typeof caches === 'undefined') return null;
    try {
      return new ModelCache(await caches.open(CACHE_NAME), onFailure);
    } catch {
      return null;
    }
  }

  private report(e: unknown): void {
    if (this.reported) return;
    this.reported = true;
    this.onFailure(failure(e));
  }

  private static key(sourceKey: string, f: ManifestFile): string {
    return entryKey(sourceKey, f.path, f.sha256);
  }

  /** The cached bytes of `f`, only when they still match the manifest (a corrupt entry is dropped). */
  async get(sourceKey: string, f: ManifestFile): Promise<Uint8Array | null> {
    const key = ModelCache.key(sourceKey, f);
    const hit = await this.cache.match(key).catch(() => undefined);
    if (!hit) return null;
    const bytes = new Uint8Array(await hit.arrayBuffer());
    if (await matchesFile(f, bytes)) return bytes;
    await this.cache.delete(key).catch(() => false);
    return null;
  }

  /**
   * Stores verified bytes. A failure (e.g. a full quota) is reported and otherwise only costs a re-read next time:
   * the caller already has the bytes, so the model loads all the same.
   */
  async put(sourceKey: string, f: ManifestFile, bytes: Uint8Array): Promise<void> {
    const copy = new Uint8Array(bytes); // the cache consumes its body; keep the caller's intact
    const headers = {
      'Content-Type': 'application/octet-stream',
      // the cache manager sums sizes from this, without reading the bodies back
      'Content-Length': String(copy.byteLength),
    };
    await this.cache
      .put(ModelCache.key(sourceKey, f), new Response(copy, { headers }))
      .catch((e: unknown) => this.report(e));
  }

  /** Records that `source` was loaded now, with its manifest's name and files (only for cached sources). */
  async recordUse(source: ModelSource, manifest: Manifest): Promise<void> {
    if (!source.cacheable) return;
    const meta: ModelMeta = {
      sourceKey: source.key,
      id: manifest.id,
      displayName: manifest.display_name,
      lastUsed: Date.now(),
      files: manifest.files.map((f) => ({ path: f.path, sha256: f.sha256, bytes: f.bytes })),
    };
    try {
      const store = await caches.open(META_CACHE_NAME);
      await store.put(
        source.key,
        new Response(JSON.stringify(meta), { headers: { 'Content-Type': 'application/json' } }),
      );
    } catch (e) {
      this.report(e);
    }
  }
}

async function readMetas(): Promise<ModelMeta[]> {
  if (!(await caches.has(META_CACHE_NAME))) return [];
  const store = await caches.open(META_CACHE_NAME);
  const out: ModelMeta[] = [];
  for (const req of await store.keys()) {
    const res = await store.match(req);
    const meta = parseMeta(await res?.json().catch(() => null));
    if (meta) out.push(meta);
  }
  return out;
}

async function entrySize(res: Response): Promise<number> {
  const header = res.headers.get('Content-Length');
  if (header !== null && /^\d+$/.test(header)) return Number(header);
  return (await res.blob()).size; // entries stored before the header was written
}

/** Every model folder in the cache, with its size, file count and last use (most recent first). */
export async function listCachedModels(): Promise<CachedModel[]> {
  if (typeof caches === 'undefined' || !(await caches.has(CACHE_NAME))) return [];
  const cache = await caches.open(CACHE_NAME);
  const entries: CachedEntry[] = [];
  for (const req of await cache.keys()) {
    const res = await cache.match(req);
    if (res) entries.push({ url: req.url, bytes: await entrySize(res) });
  }
  return groupEntries(entries, await readMetas());
}

/**
 * Removes one model folder's files and record. A model in use keeps working: the worker holds its bytes (or
 * sessions) in memory; only its next load downloads it again.
 */
export async function deleteCachedModel(sourceKey: string): Promise<{ files: number; bytes: number }> {
  if (typeof caches === 'undefined') return { files: 0, bytes: 0 };
  const model = (await listCachedModels()).find((m) => m.sourceKey === sourceKey);
  if (model) {
    const cache = await caches.open(CACHE_NAME);
    for (const url of model.urls) await cache.delete(url);
  }
  if (await caches.has(META_CACHE_NAME)) await (await caches.open(META_CACHE_NAME)).delete(sourceKey);
  return { files: model?.files ?? 0, bytes: model?.bytes ?? 0 };
}
