/**
 * The model cache as the user sees it: Cache Storage entries (one per verified file, keyed
 * `${fileUrl}?sha256=<hex>`) grouped into models by the folder they were loaded from. Pure, so the grouping runs
 * in Node tests; the worker (src/worker/modelCache.ts) reads the entries and the metadata records.
 */

/** One cached file as read back from Cache Storage. */
export interface CachedEntry {
  /** the cache key: absolute file URL with `?sha256=` */
  url: string;
  bytes: number;
}

/** What a load records about a model folder (one record per folder, rewritten on every load). */
export interface ModelMeta {
  /** the folder's URL, ending in '/' (file keys start with it) */
  sourceKey: string;
  id: string;
  displayName: string;
  /** ms since the epoch of the last load that used this folder */
  lastUsed: number;
  /** the manifest's files at that load, paths relative to the folder */
  files: { path: string; sha256: string; bytes: number }[];
}

/** One model folder in the cache. */
export interface CachedModel {
  sourceKey: string;
  /** from the metadata record, when there is one (older entries, or a record the quota refused, have none) */
  id?: string;
  displayName?: string;
  lastUsed?: number;
  /** cached entries of this folder */
  files: number;
  bytes: number;
  /** entries whose path and sha256 are not in the last manifest seen (an older version of the folder) */
  staleFiles: number;
  /** the entries' keys (what deleting this model removes) */
  urls: string[];
}

export function entryKey(sourceKey: string, path: string, sha256: string): string {
  return `${new URL(path, sourceKey).href}?sha256=${sha256}`;
}

/** The file URL and digest of an entry key; sha256 is null for a key of another form. */
export function parseEntryKey(url: string): { fileUrl: string; sha256: string | null } {
  const m = /^(.*)\?sha256=([0-9a-f]{64})$/i.exec(url);
  return m ? { fileUrl: m[1]!, sha256: m[2]!.toLowerCase() } : { fileUrl: url.split('?')[0]!, sha256: null };
}

/** The folder of a file URL (up to and including the last '/'). */
export function folderOf(fileUrl: string): string {
  const u = new URL(fileUrl);
  u.search = '';
  u.hash = '';
  return u.href.slice(0, u.href.lastIndexOf('/') + 1);
}

/**
 * Entries grouped by model folder: an entry belongs to the folder of the longest metadata `sourceKey` its URL
 * starts with (manifest paths may name subfolders, so the file's own folder is not always the model's); an entry
 * under no recorded folder is grouped by its own folder. Folders without entries are left out. Most recently
 * used first, then those never recorded, by URL.
 */
export function groupEntries(entries: readonly CachedEntry[], metas: readonly ModelMeta[]): CachedModel[] {
  const keys = [...metas].sort((a, b) => b.sourceKey.length - a.sourceKey.length);
  const groups = new Map<string, CachedModel>();
  for (const e of entries) {
    const { fileUrl } = parseEntryKey(e.url);
    const meta = keys.find((m) => fileUrl.startsWith(m.sourceKey));
    const sourceKey = meta?.sourceKey ?? folderOf(fileUrl);
    let g = groups.get(sourceKey);
    if (!g) {
      g = { sourceKey, files: 0, bytes: 0, staleFiles: 0, urls: [] };
      if (meta) Object.assign(g, { id: meta.id, displayName: meta.displayName, lastUsed: meta.lastUsed });
      groups.set(sourceKey, g);
    }
    g.files++;
    g.bytes += e.bytes;
    g.urls.push(e.url);
    if (meta && !meta.files.some((f) => entryKey(meta.sourceKey, f.path, f.sha256) === e.url)) g.staleFiles++;
  }
  return [...groups.values()].sort(
    (a, b) => (b.lastUsed ?? -Infinity) - (a.lastUsed ?? -Infinity) || a.sourceKey.localeCompare(b.sourceKey),
  );
}

/** A name for a cached model: its manifest's display name, else the folder's last segment. */
export function modelLabel(m: Pick<CachedModel, 'sourceKey' | 'displayName'>): string {
  if (m.displayName) return m.displayName;
  const parts = new URL(m.sourceKey).pathname.split('/').filter(Boolean);
  return parts.at(-1) ?? m.sourceKey;
}

/** A metadata record read back from storage, or null when it is not one (another version, damage). */
export function parseMeta(json: unknown): ModelMeta | null {
  if (typeof json !== 'object' || json === null) return null;
  const o = json as Record<string, unknown>;
  if (
    typeof o.sourceKey !== 'string' ||
    typeof o.id !== 'string' ||
    typeof o.displayName !== 'string' ||
    typeof o.lastUsed !== 'number' ||
    !Array.isArray(o.files)
  )
    return null;
  const files = (o.files as unknown[]).filter(
    (f): f is ModelMeta['files'][number] =>
      typeof f === 'object' &&
      f !== null &&
      typeof (f as Record<string, unknown>).path === 'string' &&
      typeof (f as Record<string, unknown>).sha256 === 'string' &&
      typeof (f as Record<string, unknown>).bytes === 'number',
  );
  return { sourceKey: o.sourceKey, id: o.id, displayName: o.displayName, lastUsed: o.lastUsed, files };
}
