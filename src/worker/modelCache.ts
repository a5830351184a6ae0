/**
 * Verified model files kept in Cache Storage, keyed by the source's key and the file's sha256, so a changed file
 * is never served from the cache and a model folder opened twice is read once.
 */
import type { ManifestFile } from '../lib/manifest';
import { matchesFile } from './verify';

export const CACHE_NAME = 'toklip-models-v1';

export class ModelCache {
  private constructor(private readonly cache: Cache) {}

  /** null where Cache Storage is missing or refused (private windows, opaque origins): files are then re-read. */
  static async open(use: boolean): Promise<ModelCache | null> {
    if (!use || typeof caches === 'undefined') return null;
    try {
      return new ModelCache(await caches.open(CACHE_NAME));
    } catch {
      return null;
    }
  }

  private static key(sourceKey: string, f: ManifestFile): string {
    return `${new URL(f.path, sourceKey).href}?sha256=${f.sha256}`;
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

  /** Stores verified bytes; a failure (e.g. a full quota) only costs a re-read next time. */
  async put(sourceKey: string, f: ManifestFile, bytes: Uint8Array): Promise<void> {
    const copy = new Uint8Array(bytes); // the cache consumes its body; keep the caller's intact
    await this.cache
      .put(
        ModelCache.key(sourceKey, f),
        new Response(copy, { headers: { 'Content-Type': 'application/octet-stream' } }),
      )
      .catch(() => undefined);
  }
}
