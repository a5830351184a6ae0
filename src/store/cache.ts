/**
 * The model cache manager's state: model folders kept in Cache Storage by the inference worker, the origin's
 * storage estimate and persistence, and the notice shown when a load could not store its model.
 */
import { create } from 'zustand';
import { modelLabel, type CachedModel } from '../lib/cacheEntries';
import { formatBytes } from '../lib/format';
import type { CacheNoticeEvent } from '../worker/protocol';
import { client } from './actions';
import { useStore } from './store';

/** localStorage key: the browser's answer to persist(), so the user is asked once. */
export const PERSIST_ASKED_KEY = 'toklip-storage-persist-asked';

export interface PersistAnswer {
  granted: boolean;
  /** ms since the epoch */
  at: number;
}

export interface CacheState {
  models: CachedModel[];
  status: 'idle' | 'loading' | 'ready' | 'error';
  error?: string;
  /** navigator.storage.estimate() of the whole origin (absent where unsupported) */
  estimate?: { usage: number; quota: number };
  /** navigator.storage.persisted(); null where the browser has no such API */
  persisted: boolean | null;
  /** what persist() answered when it was asked (null: not asked yet) */
  persistAnswer: PersistAnswer | null;
  /** a load could not store its model (full quota, …); shown until dismissed */
  notice?: { reason: CacheNoticeEvent['reason']; message: string };
}

function readPersistAnswer(): PersistAnswer | null {
  try {
    const v = JSON.parse(localStorage.getItem(PERSIST_ASKED_KEY) ?? 'null') as PersistAnswer | null;
    return v && typeof v.granted === 'boolean' && typeof v.at === 'number' ? v : null;
  } catch {
    return null;
  }
}

export const useCacheStore = create<CacheState>()(() => ({
  models: [],
  status: 'idle',
  persisted: null,
  persistAnswer: readPersistAnswer(),
}));

const set = useCacheStore.setState;

function announce(message: string): void {
  useStore.setState({ announcement: message });
}

export function cacheNoticeText(e: Pick<CacheNoticeEvent, 'reason' | 'detail'>): string {
  return e.reason === 'quota'
    ? "The model loaded and works, but it could not be saved for offline use: this site's storage is full. " +
        'Nothing is lost — it runs from memory now and is downloaded again on the next visit. To free space, ' +
        'delete models you no longer need under “Model cache”, or clear this site’s data in the browser’s settings.'
    : `The model loaded and works, but it could not be saved for offline use (${e.detail}); it is downloaded ` +
        'again on the next visit.';
}

client.onCacheNotice((e) => {
  const message = cacheNoticeText(e);
  set({ notice: { reason: e.reason, message } });
  announce(message);
});

export function dismissCacheNotice(): void {
  set({ notice: undefined });
}

async function storageFacts(): Promise<Pick<CacheState, 'estimate' | 'persisted'>> {
  const storage = typeof navigator !== 'undefined' ? navigator.storage : undefined;
  const [estimate, persisted] = await Promise.all([
    storage?.estimate
      ? storage.estimate().then(
          (e) => ({ usage: e.usage ?? 0, quota: e.quota ?? 0 }),
          () => undefined,
        )
      : Promise.resolve(undefined),
    storage?.persisted ? storage.persisted().catch(() => null) : Promise.resolve(null),
  ]);
  return { estimate, persisted };
}

/** Re-reads the cached models and the storage figures. */
export async function refreshCache(): Promise<void> {
  set({ status: 'loading', error: undefined });
  try {
    const [{ models }, facts] = await Promise.all([client.listCache(), storageFacts()]);
    set({ models, status: 'ready', ...facts });
  } catch (e) {
    set({ status: 'error', error: e instanceof Error ? e.message : String(e) });
  }
}

/** Deletes one model folder from the cache; the model in use keeps working (the worker holds it in memory). */
export async function deleteCachedModel(sourceKey: string): Promise<void> {
  const model = useCacheStore.getState().models.find((m) => m.sourceKey === sourceKey);
  const name = model ? modelLabel(model) : sourceKey;
  try {
    const r = await client.deleteCached(sourceKey);
    await refreshCache();
    announce(`${name} was removed from the cache (${r.files} files, ${formatBytes(r.bytes)}).`);
  } catch (e) {
    const message = `${name} could not be removed from the cache: ${e instanceof Error ? e.message : String(e)}`;
    set({ error: message });
    announce(message);
  }
}

/** Asks the browser once to keep this site's storage under pressure; the answer is remembered. */
export async function askPersist(): Promise<void> {
  if (!navigator.storage?.persist) return;
  const granted = await navigator.storage.persist().catch(() => false);
  const answer: PersistAnswer = { granted, at: Date.now() };
  try {
    localStorage.setItem(PERSIST_ASKED_KEY, JSON.stringify(answer));
  } catch {
    // storage disabled: the question may come again, nothing else is lost
  }
  set({ persistAnswer: answer, ...(await storageFacts()) });
  announce(
    granted
      ? 'The browser will keep the cached models when storage runs short.'
      : 'The browser did not grant persistent storage; cached models may be evicted when storage runs short.',
  );
}
