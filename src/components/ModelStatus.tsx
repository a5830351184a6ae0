import { formatBytes, formatMs } from '../lib/format';
import { useStore } from '../store/store';

/** Model loading: per-file progress bars (bytes, %), integrity check state, clear errors naming the file. */
export function ModelStatus() {
  const model = useStore((s) => s.model);
  const files = Object.values(model.files);
  const loaded = files.reduce((n, f) => n + f.loaded, 0);
  const total = files.reduce((n, f) => n + f.total, 0);
  if (model.status === 'ready') {
    const m = model.manifest!;
    return (
      <p className="text-xs text-slate-600" data-testid="model-ready">
        {m.display_name}: {m.grid.h}×{m.grid.w} tokens from a {m.codebook.size}-code codebook, {m.image.size}{' '}
        px input, {formatBytes(m.memory?.weights_bytes ?? total)} of weights verified (sha256) in{' '}
        {formatMs(model.loadMs ?? NaN)}.
        {m.description ? <span className="block text-slate-500">{m.description}</span> : null}
      </p>
    );
  }
  return (
    <section aria-label="Model loading" className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
      {model.status === 'error' ? (
        <div role="alert" className="rounded bg-red-50 p-2 text-sm text-red-800" data-testid="model-error">
          <strong>The model could not be loaded.</strong> {model.error?.message}
          {model.error?.file ? <span className="block text-xs">File: {model.error.file}</span> : null}
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
