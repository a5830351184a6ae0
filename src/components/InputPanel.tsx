import { useEffect, useMemo, useRef, useState, type DragEvent } from 'react';
import { addFiles, addSample, cancelQueued, clearImages, modelSamples } from '../store/actions';
import { ACTIVE_STATUSES, useStore } from '../store/store';
import { readAllEntries } from '../lib/dirEntries';

const MAX_DEPTH = 8;
const MAX_DROPPED_FILES = 2000;

/**
 * Collects files from a drop, including the files inside dropped folders (recursively, hidden files skipped,
 * in name order). Without the entries API a folder arrives as an unreadable File; decodeImage says so.
 */
async function filesFromDrop(dt: DataTransfer): Promise<File[]> {
  const items = Array.from(dt.items ?? []);
  const entries = items
    .map((it) => (typeof it.webkitGetAsEntry === 'function' ? it.webkitGetAsEntry() : null))
    .filter((e): e is FileSystemEntry => e !== null);
  if (!entries.some((e) => e.isDirectory)) return Array.from(dt.files);
  const out: File[] = [];
  const walk = async (entry: FileSystemEntry, depth: number): Promise<void> => {
    if (out.length >= MAX_DROPPED_FILES || entry.name.startsWith('.')) return;
    if (entry.isFile) {
      out.push(await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej)));
    } else if (entry.isDirectory && depth < MAX_DEPTH) {
      const children = await readAllEntries(entry as FileSystemDirectoryEntry);
      children.sort((a, b) => a.name.localeCompare(b.name));
      for (const c of children) await walk(c, depth + 1);
    }
  };
  for (const e of entries) await walk(e, 0);
  return out;
}

/** Batch progress: how many of the images added since the queue was last empty are finished; Cancel. */
function QueueProgress() {
  const images = useStore((s) => s.images);
  const total = useStore((s) => s.queueTotal);
  const active = images.filter((im) => ACTIVE_STATUSES.includes(im.status));
  const queued = active.filter((im) => im.status === 'queued').length;
  if (!active.length || total < 2) return null;
  const finished = Math.max(0, total - active.length);
  return (
    <div className="mt-3 flex items-center gap-2 text-xs text-slate-700" data-testid="queue-progress">
      <progress
        max={total}
        value={finished}
        aria-label={`${finished} of ${total} images processed`}
        className="h-2 flex-1 overflow-hidden rounded [&::-webkit-progress-bar]:bg-slate-200 [&::-webkit-progress-value]:bg-sky-500"
      />
      <span role="status" data-testid="queue-status">
        {finished} of {total} processed{queued ? `, ${queued} queued` : ''}
      </span>
      {queued ? (
        <button type="button" className="btn" onClick={cancelQueued} data-testid="queue-cancel">
          Cancel the {queued} queued
        </button>
      ) : null}
    </div>
  );
}

function ClearAll() {
  const count = useStore((s) => s.images.length);
  if (!count) return null;
  return (
    <div className="mt-2 text-right text-xs">
      <button type="button" className="btn" onClick={clearImages} data-testid="clear-images">
        Remove all {count} image{count > 1 ? 's' : ''}
      </button>
    </div>
  );
}

export function InputPanel() {
  const inputRef = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const model = useStore((s) => s.model);
  const samples = useMemo(
    () => (model.manifest ? modelSamples(model) : null),
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the list changes only with the manifest
    [model.manifest, model.baseUrl, model.sampleUrls],
  );

  useEffect(() => {
    const onPaste = (e: ClipboardEvent) => {
      const files = Array.from(e.clipboardData?.files ?? []);
      if (files.length) {
        e.preventDefault();
        addFiles(files);
      }
    };
    window.addEventListener('paste', onPaste);
    return () => {
      window.removeEventListener('paste', onPaste);
    };
  }, []);

  const onDrop = async (e: DragEvent<HTMLDivElement>) => {
    e.preventDefault();
    setOver(false);
    addFiles(await filesFromDrop(e.dataTransfer));
  };

  return (
    <section
      aria-labelledby="input-title"
      className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm"
    >
      <h2 id="input-title" className="mb-2 text-base font-semibold">
        Images
      </h2>
      <div
        data-testid="dropzone"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => void onDrop(e)}
        className={`flex flex-col items-center gap-2 rounded-lg border-2 border-dashed p-6 text-center text-sm ${
          over ? 'border-sky-500 bg-sky-50' : 'border-slate-300'
        }`}
      >
        <p className="text-slate-700">Drop images here (several at once), paste one, or</p>
        <button type="button" className="btn btn-primary" onClick={() => inputRef.current?.click()}>
          Choose images…
        </button>
        <input
          ref={inputRef}
          id="file-input"
          data-testid="file-input"
          type="file"
          accept="image/png,image/jpeg,image/webp,image/gif,image/bmp,image/avif"
          multiple
          className="sr-only"
          tabIndex={-1}
          aria-label="Choose images"
          onChange={(e) => {
            addFiles(Array.from(e.target.files ?? []));
            e.target.value = '';
          }}
        />
        <p className="text-xs text-slate-500">
          Everything runs in this browser tab: your images never leave this machine.
        </p>
      </div>
      <QueueProgress />
      <ClearAll />

      <div className="mt-3">
        <h3 className="text-sm font-medium text-slate-800">Samples</h3>
        {samples === null ? (
          <p className="text-xs text-slate-500">Samples appear when the model is loaded…</p>
        ) : samples.length === 0 ? (
          <p className="text-xs text-slate-500" data-testid="no-samples">
            This model folder lists no sample pictures.
          </p>
        ) : (
          <ul className="mt-1 flex flex-wrap gap-2" aria-label="Sample images" data-testid="samples">
            {samples.map((s) => (
              <li key={s.file}>
                <button
                  type="button"
                  className="group block w-24 rounded border border-slate-200 p-1 text-left focus-visible:ring-2 focus-visible:ring-sky-500 focus-visible:outline-none"
                  onClick={() => void addSample(s)}
                  aria-label={`Open sample: ${s.title} (${s.split === 'heldout_style' ? 'held-out art style' : 'held out from training'}; ${s.credit}, ${s.license})`}
                >
                  <img
                    src={s.url}
                    // a URL model's samples: the page is cross-origin isolated (COEP require-corp), so an image
                    // of another origin must be fetched with CORS
                    crossOrigin={new URL(s.url).origin === location.origin ? undefined : 'anonymous'}
                    alt=""
                    className="aspect-square w-full rounded object-cover"
                    loading="lazy"
                  />
                  <span className="mt-0.5 block truncate text-[11px] text-slate-700">{s.title}</span>
                  <span className="block text-[10px] font-medium text-emerald-800">
                    {s.split === 'heldout_style' ? 'held-out style' : 'held out'}
                  </span>
                  <span
                    className="block truncate text-[10px] text-slate-500"
                    title={`${s.credit} · ${s.license}`}
                  >
                    {s.credit} · {s.license}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}
