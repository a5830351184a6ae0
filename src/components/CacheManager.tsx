import { useEffect, useRef, useState } from 'react';
import { modelLabel, type CachedModel } from '../lib/cacheEntries';
import { formatBytes, formatPercent } from '../lib/format';
import {
  askPersist,
  deleteCachedModel,
  dismissCacheNotice,
  refreshCache,
  useCacheStore,
} from '../store/cache';
import { useStore } from '../store/store';

function When({ ms }: { ms: number | undefined }) {
  if (ms === undefined) return <span className="text-slate-500">unknown</span>;
  const d = new Date(ms);
  return <time dateTime={d.toISOString()}>{d.toLocaleString()}</time>;
}

/** Shown whatever the panel's state: a load could not store its model. */
function CacheNotice() {
  const notice = useCacheStore((s) => s.notice);
  if (!notice) return null;
  return (
    <div
      role="alert"
      className="flex items-start justify-between gap-2 rounded bg-amber-50 p-2 text-sm text-amber-900"
      data-testid="cache-notice"
      data-reason={notice.reason}
    >
      <span>{notice.message}</span>
      <button type="button" className="btn text-xs" onClick={dismissCacheNotice}>
        Dismiss
      </button>
    </div>
  );
}

function Persistence() {
  const persisted = useCacheStore((s) => s.persisted);
  const answer = useCacheStore((s) => s.persistAnswer);
  const supported = typeof navigator !== 'undefined' && !!navigator.storage?.persist;
  let text: string;
  if (persisted === true)
    text = 'Storage is persistent: the browser keeps the cached models until you delete them here.';
  else if (answer)
    text = `Storage is not persistent: asked on ${new Date(answer.at).toLocaleString()}, the browser ${
      answer.granted ? 'granted it then' : 'did not grant it'
    }. Cached models may be evicted when the device runs short of space.`;
  else if (!supported) text = 'This browser cannot make storage persistent.';
  else
    text =
      'Storage is not persistent: the browser may evict cached models when the device runs short of space.';
  return (
    <div className="space-y-1" data-testid="cache-persistence" data-persisted={String(persisted)}>
      <p>{text}</p>
      {supported && persisted !== true && !answer ? (
        <>
          <button
            type="button"
            className="btn text-xs"
            aria-describedby="cache-persist-why"
            onClick={() => void askPersist()}
            data-testid="cache-persist"
          >
            Keep cached models when space is short
          </button>
          <p id="cache-persist-why" className="text-xs text-slate-600">
            Models are large (megabytes to gigabytes). Under storage pressure the browser may delete this
            site’s cache without asking, and the next visit downloads everything again. Persistent storage
            keeps them until you delete them here. The browser may ask you or decide by itself; the app asks
            only once.
          </p>
        </>
      ) : null}
    </div>
  );
}

function Row({
  m,
  inUse,
  confirming,
  setConfirming,
  afterDelete,
}: {
  m: CachedModel;
  inUse: boolean;
  confirming: boolean;
  setConfirming: (key: string | null) => void;
  afterDelete: () => void;
}) {
  const label = modelLabel(m);
  const cancelRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (confirming) cancelRef.current?.focus();
  }, [confirming]);
  return (
    <tr className="border-t border-slate-200 align-top" data-testid="cache-row" data-source={m.sourceKey}>
      <th scope="row" className="py-1 pr-2 text-left font-normal">
        <span data-testid="cache-model-name">{label}</span>
        {m.id && m.id !== label ? <span className="block text-xs text-slate-500">{m.id}</span> : null}
        {inUse ? <span className="block text-xs text-emerald-700">in use</span> : null}
      </th>
      <td className="py-1 pr-2 font-mono text-xs break-all">{m.sourceKey}</td>
      <td className="py-1 pr-2 text-right whitespace-nowrap">
        <data value={m.bytes} data-testid="cache-size">
          {formatBytes(m.bytes)}
        </data>
      </td>
      <td className="py-1 pr-2 text-right" data-testid="cache-files">
        {m.files}
        {m.staleFiles ? (
          <span className="block text-xs text-slate-500">{m.staleFiles} from an older version</span>
        ) : null}
      </td>
      <td className="py-1 pr-2" data-testid="cache-last-used">
        <When ms={m.lastUsed} />
      </td>
      <td className="py-1">
        {confirming ? (
          <span className="flex flex-wrap items-center gap-1">
            <span>
              Delete {formatBytes(m.bytes)}?
              {inUse ? ' The model keeps working now; its next load downloads it again.' : ''}
            </span>
            <button
              type="button"
              className="btn text-xs"
              aria-label={`Yes, delete ${label} from the cache`}
              onClick={() => {
                setConfirming(null);
                void deleteCachedModel(m.sourceKey).then(afterDelete);
              }}
              data-testid="cache-delete-confirm"
            >
              Yes, delete
            </button>
            <button
              ref={cancelRef}
              type="button"
              className="btn text-xs"
              onClick={() => setConfirming(null)}
              data-testid="cache-delete-cancel"
            >
              Cancel
            </button>
          </span>
        ) : (
          <button
            type="button"
            className="btn text-xs"
            aria-label={`Delete ${label} from the cache`}
            onClick={() => setConfirming(m.sourceKey)}
            data-testid="cache-delete"
          >
            Delete
          </button>
        )}
      </td>
    </tr>
  );
}

function CachePanel() {
  const { models, status, error, estimate } = useCacheStore();
  const modelStatus = useStore((s) => s.model.status);
  const baseUrl = useStore((s) => s.model.baseUrl);
  const [confirming, setConfirming] = useState<string | null>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);
  // A finished load may have added or touched a folder.
  useEffect(() => {
    if (modelStatus !== 'loading') void refreshCache();
  }, [modelStatus, baseUrl]);
  return (
    <div className="mt-2 space-y-2" data-testid="cache-panel" data-status={status}>
      <h3 ref={headingRef} tabIndex={-1} className="sr-only">
        Cached models
      </h3>
      <p className="text-xs text-slate-600">
        Model files verified against their manifest are kept in this browser, so a model loads again without
        downloading and works offline. Nothing leaves this computer.
      </p>
      {estimate ? (
        <p data-testid="cache-estimate" data-usage={estimate.usage} data-quota={estimate.quota}>
          This site uses {formatBytes(estimate.usage)} of the {formatBytes(estimate.quota)} the browser allows
          it
          {estimate.quota > 0 ? ` (${formatPercent(estimate.usage / estimate.quota)})` : ''}.
        </p>
      ) : null}
      <Persistence />
      {error ? (
        <p role="alert" className="text-red-800">
          {error}
        </p>
      ) : null}
      {models.length ? (
        <div className="overflow-x-auto">
          <table className="w-full text-sm" data-testid="cache-table">
            <caption className="text-left text-xs text-slate-600">
              {models.length} model folder{models.length > 1 ? 's' : ''} in the cache
            </caption>
            <thead>
              <tr className="text-left text-xs text-slate-600 [&>th]:pr-2">
                <th scope="col">Model</th>
                <th scope="col">Folder</th>
                <th scope="col" className="text-right">
                  Size
                </th>
                <th scope="col" className="text-right">
                  Files
                </th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {models.map((m) => (
                <Row
                  key={m.sourceKey}
                  m={m}
                  inUse={m.sourceKey === baseUrl}
                  confirming={confirming === m.sourceKey}
                  setConfirming={setConfirming}
                  afterDelete={() => headingRef.current?.focus()}
                />
              ))}
            </tbody>
          </table>
        </div>
      ) : status === 'ready' ? (
        <p data-testid="cache-empty">No models are cached.</p>
      ) : null}
      <button type="button" className="btn text-xs" onClick={() => void refreshCache()}>
        Refresh
      </button>
    </div>
  );
}

/**
 * The model cache: which model folders this browser keeps (size, files, last use), deleting one, the origin's
 * storage figures and persistence. A disclosure, so it costs nothing until opened; the notice of a model that
 * could not be stored shows whether it is open or not.
 */
export function CacheManager() {
  const [open, setOpen] = useState(false);
  return (
    <section aria-label="Model cache" className="space-y-2">
      <CacheNotice />
      <details
        className="rounded border border-slate-200 bg-white p-2 text-sm"
        onToggle={(e) => setOpen(e.currentTarget.open)}
        data-testid="cache-manager"
      >
        <summary className="cursor-pointer font-semibold" data-testid="cache-summary">
          Model cache
        </summary>
        {open ? <CachePanel /> : null}
      </details>
    </section>
  );
}
