import { useRef, useState, type DragEvent, type FormEvent } from 'react';
import { MODELS } from '../config/models';
import { gpuTensorLimit } from '../lib/capacity';
import { formatBytes, formatMs } from '../lib/format';
import { OFFICIAL_TOKLIP } from '../lib/manifest';
import { providerName } from '../lib/provider';
import { dismissWorkerNotice, switchModel } from '../store/actions';
import {
  hasDirectoryPicker,
  openDroppedFolder,
  openFolderFromInput,
  openFolderWithPicker,
} from '../store/localFolder';
import { useStore } from '../store/store';
import { HiddenFolderInput } from './HiddenFolderInput';

/**
 * Load another model folder: one of this site (models/<id>/) or a URL (any host with CORS that this build's CSP
 * allows); the current model stays in use if that fails.
 */
function ModelPicker({ current }: { current: string }) {
  const [value, setValue] = useState(current);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const id = value.trim();
    if (id) void switchModel(id);
  };
  return (
    <form onSubmit={submit} className="flex items-center gap-1 text-xs" data-testid="model-picker">
      <label htmlFor="model-folder" className="text-slate-600">
        Model folder
      </label>
      <input
        id="model-folder"
        list="model-folders"
        value={value}
        onChange={(e) => setValue(e.target.value)}
        placeholder="name or https://…/folder/"
        title="A model folder of this site (its name) or the URL of a model folder on another host"
        className="w-56 rounded border border-slate-300 px-1 py-0.5 font-mono"
        data-testid="model-folder"
      />
      <datalist id="model-folders">
        {MODELS.map((m) => (
          <option key={m.id} value={m.id} />
        ))}
      </datalist>
      <button type="submit" className="btn" data-testid="model-load">
        Load
      </button>
    </form>
  );
}

/** A model folder on this computer: the directory picker where there is one, else a folder input. */
function LocalFolderButton() {
  const input = useRef<HTMLInputElement | null>(null);
  const open = () => {
    if (hasDirectoryPicker()) void openFolderWithPicker();
    else input.current?.click();
  };
  return (
    <>
      <button
        type="button"
        className="btn text-xs"
        onClick={open}
        data-testid="model-open-folder"
        title="Load a model folder (with its manifest.json) from this computer; you can also drop the folder here"
      >
        Open folder from disk…
      </button>
      <HiddenFolderInput
        inputRef={input}
        label="Model folder from disk"
        testId="model-folder-input"
        onFiles={(files) => void openFolderFromInput(files)}
      />
    </>
  );
}

/** Dropping a model folder on the panel opens it, as the button does. */
function useFolderDrop() {
  const [over, setOver] = useState(false);
  return {
    over,
    handlers: {
      onDragOver: (e: DragEvent) => {
        if (!e.dataTransfer.types.includes('Files')) return;
        e.preventDefault();
        setOver(true);
      },
      onDragLeave: () => setOver(false),
      onDrop: (e: DragEvent) => {
        if (!e.dataTransfer.types.includes('Files')) return;
        e.preventDefault();
        setOver(false);
        void openDroppedFolder(e.dataTransfer.items);
      },
    },
  };
}

/** Variant and memory figures of a large model (manifest `variant`/`memory`), against what this browser offers. */
function ModelFacts() {
  const model = useStore((s) => s.model);
  const m = model.manifest;
  if (!m || (!m.variant && !m.memory && !model.textTable)) return null;
  const { variant, memory } = m;
  const gpu = model.limits?.gpu;
  const heap = model.limits?.wasmHeapBytes;
  const limit = gpu ? ` (WebGPU buffer limit ${formatBytes(gpuTensorLimit(gpu))})` : '';
  const parts: string[] = [];
  if (variant) {
    const on = variant.providers?.length ? `, for ${variant.providers.map(providerName).join(' / ')}` : '';
    const needs = variant.requires?.length ? `, needs ${variant.requires.join(', ')}` : '';
    parts.push(`variant ${variant.dtype}${variant.compute ? ` (${variant.compute})` : ''}${on}${needs}`);
  }
  if (memory?.weights_bytes !== undefined) parts.push(`weights ${formatBytes(memory.weights_bytes)}`);
  if (memory?.peak_estimate_bytes !== undefined) {
    const of = heap !== undefined ? ` of ${formatBytes(heap)} WASM heap` : '';
    parts.push(`peak estimate ${formatBytes(memory.peak_estimate_bytes)}${of}`);
  }
  if (memory?.largest_tensor_bytes !== undefined)
    parts.push(`largest tensor ${formatBytes(memory.largest_tensor_bytes)}${limit}`);
  if (model.textTable) {
    const t = m.text.embedding_table;
    const how =
      model.textTable.mode === 'whole'
        ? `${model.origin?.kind === 'disk' ? 'read' : 'downloaded'} whole, sha256 verified`
        : model.origin?.kind === 'disk'
          ? 'rows read from the file on disk as needed (size checked, not hashed)'
          : 'rows read by HTTP Range requests';
    parts.push(`token table ${formatBytes(model.textTable.bytes)}${t ? ` (${t.dtype})` : ''}, ${how}`);
  }
  return (
    <p
      className="text-xs text-slate-600"
      data-testid="model-facts"
      data-dtype={variant?.dtype}
      data-table-mode={model.textTable?.mode}
    >
      {parts.join(' · ')}
    </p>
  );
}

function WorkerNotice() {
  const notice = useStore((s) => s.workerNotice);
  if (!notice) return null;
  return (
    <div
      role="alert"
      className="flex items-start justify-between gap-2 rounded bg-amber-50 p-2 text-sm text-amber-900"
      data-testid="worker-notice"
    >
      <span>{notice}</span>
      <button type="button" className="btn text-xs" onClick={dismissWorkerNotice}>
        Dismiss
      </button>
    </div>
  );
}

/** Model loading: per-file progress bars (bytes, %), integrity check state, clear errors naming the file. */
export function ModelStatus() {
  const model = useStore((s) => s.model);
  const files = Object.values(model.files);
  const loaded = files.reduce((n, f) => n + f.loaded, 0);
  const total = files.reduce((n, f) => n + f.total, 0);
  const drop = useFolderDrop();
  const ring = drop.over ? ' rounded ring-2 ring-sky-400' : '';
  if (model.status === 'ready') {
    const m = model.manifest!;
    const origin = model.origin;
    return (
      <div className={`space-y-2${ring}`} data-testid="model-panel" {...drop.handlers}>
        <WorkerNotice />
        {model.loadError ? (
          <div
            role="alert"
            className="rounded bg-red-50 p-2 text-sm text-red-800"
            data-testid="model-load-error"
          >
            <strong>The model “{model.loadError.id}” could not be loaded.</strong> {model.loadError.message}
            {model.loadError.file ? (
              <span className="block text-xs">File: {model.loadError.file}</span>
            ) : null}
            <span className="block text-xs">Still using {m.display_name}.</span>
          </div>
        ) : null}
        {model.variantNote ? (
          <p
            className="rounded bg-amber-50 p-2 text-xs text-amber-900"
            role="status"
            data-testid="model-variant-note"
          >
            {model.variantNote}
          </p>
        ) : null}
        <div className="flex flex-wrap items-start justify-between gap-2">
          <p className="text-xs text-slate-600" data-testid="model-ready" data-model-id={model.id}>
            {m.display_name}: {m.grid.h}×{m.grid.w} tokens from a {m.codebook.size}-code codebook,{' '}
            {m.image.size} px input, {formatBytes(m.memory?.weights_bytes ?? total)} of weights verified
            (sha256) in {formatMs(model.loadMs ?? NaN)}.
            {m.description ? <span className="block text-slate-500">{m.description}</span> : null}
            {origin ? (
              <span className="block text-slate-500" data-testid="model-source" data-source={origin.kind}>
                Source:{' '}
                {origin.kind === 'disk'
                  ? `disk: ${origin.name} (read from this computer, not cached)`
                  : origin.url}
              </span>
            ) : null}
            <span
              className="block text-slate-500"
              data-testid="model-preprocessing"
              data-mode={m.image.preprocessing}
            >
              Preprocessing: {OFFICIAL_TOKLIP.label}; transparency dropped (colour under it kept, as TokLIP
              does); EXIF rotation applied.
            </span>
          </p>
          <div className="flex flex-wrap items-center gap-1">
            <ModelPicker current={origin?.kind === 'disk' ? '' : model.id} />
            <LocalFolderButton />
          </div>
        </div>
        <ModelFacts />
      </div>
    );
  }
  return (
    <section
      aria-label="Model loading"
      className={`rounded-lg border border-slate-200 bg-white p-4 shadow-sm${ring}`}
      data-testid="model-panel"
      {...drop.handlers}
    >
      <WorkerNotice />
      {model.status === 'error' ? (
        <div role="alert" className="rounded bg-red-50 p-2 text-sm text-red-800" data-testid="model-error">
          <strong>The model could not be loaded.</strong> {model.error?.message}
          {model.error?.file ? <span className="block text-xs">File: {model.error.file}</span> : null}
          <span className="mt-1 block">
            <LocalFolderButton />
          </span>
        </div>
      ) : (
        <p className="text-sm text-slate-700" role="status">
          Loading the model… {total ? `${formatBytes(loaded)} of ${formatBytes(total)}` : ''}
        </p>
      )}
      {files.length ? (
        <ul className="mt-2 space-y-1 text-xs">
          {files.map((f) => {
            const pct = f.total ? Math.min(100, Math.round((f.loaded / f.total) * 100)) : 0;
            return (
              <li key={f.file} className="grid grid-cols-[12rem_1fr_10rem] items-center gap-2">
                <span className="truncate font-mono" title={f.file}>
                  {f.file}
                </span>
                <progress
                  max={f.total || 1}
                  value={f.loaded}
                  aria-label={`${f.file}: ${pct}%`}
                  className="h-2 w-full overflow-hidden rounded [&::-webkit-progress-bar]:bg-slate-200 [&::-webkit-progress-value]:bg-sky-500"
                />
                <span className="text-right font-mono text-slate-600">
                  {f.status === 'verifying'
                    ? 'verifying sha256…'
                    : f.status === 'done'
                      ? '✓ verified'
                      : `${formatBytes(f.loaded)} / ${formatBytes(f.total)} (${pct} %)`}
                </span>
              </li>
            );
          })}
        </ul>
      ) : null}
    </section>
  );
}
