/**
 * Reading a model's files: from the cache when a verified copy is there, else from the source, then verified
 * against the manifest and cached. Progress events follow whisper-web's initiate/progress/verifying/done.
 */
import type { ManifestFile } from '../lib/manifest';
import type { ModelCache } from './modelCache';
import type { ProgressEvent } from './protocol';
import type { ModelSource } from './sources';
import { verifyFile } from './verify';

export type ReportProgress = (f: ManifestFile, loaded: number, status: ProgressEvent['status']) => void;

export async function readVerified(
  source: ModelSource,
  f: ManifestFile,
  cache: ModelCache | null,
  progress: ReportProgress,
): Promise<{ bytes: Uint8Array; fromCache: boolean }> {
  progress(f, 0, 'initiate');
  const useCache = source.cacheable ? cache : null;
  const hit = useCache ? await useCache.get(source.key, f) : null;
  if (hit) {
    progress(f, hit.byteLength, 'done');
    return { bytes: hit, fromCache: true };
  }
  const bytes = await source.readFile(f, (n) => progress(f, n, 'progress'));
  progress(f, bytes.byteLength, 'verifying');
  await verifyFile(f, bytes);
  progress(f, bytes.byteLength, 'done');
  if (useCache) await useCache.put(source.key, f, bytes);
  return { bytes, fromCache: false };
}
