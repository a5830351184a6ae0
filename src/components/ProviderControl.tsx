import { useId } from 'react';
import { providerName, type Provider } from '../lib/provider';
import { switchProvider } from '../store/actions';
import { useStore } from '../store/store';

/** Shows the active execution provider and why, and lets the user force one. */
export function ProviderControl() {
  const provider = useStore((s) => s.provider);
  const model = useStore((s) => s.model);
  const id = useId();
  const threads = model.numThreads;
  return (
    <div className="flex flex-wrap items-center gap-2 text-xs text-slate-600">
      <label htmlFor={id}>Runs on</label>
      <select
        id={id}
        data-testid="provider-select"
        value={provider.forced ?? 'auto'}
        disabled={model.status === 'loading'}
        onChange={(e) => void switchProvider(e.target.value === 'auto' ? null : (e.target.value as Provider))}
        className="rounded border border-slate-300 bg-white px-1 py-0.5 focus-visible:ring-2 focus-visible:ring-sky-500 focus-visible:outline-none"
      >
        <option value="auto">automatic</option>
        <option value="webgpu">WebGPU</option>
        <option value="wasm">WASM</option>
      </select>
      <span
        data-testid="provider-status"
        title={provider.reason}
        data-placements={provider.placements ? JSON.stringify(provider.placements) : undefined}
      >
        {provider.active ? (
          <>
            <strong className="text-slate-800">{providerName(provider.active)}</strong>
            {provider.active === 'wasm' && threads
              ? `, ${threads} thread${threads > 1 ? 's' : ''}`
              : ''} — {provider.reason}
          </>
        ) : (
          provider.reason
        )}
      </span>
      {provider.active === 'wasm' && model.crossOriginIsolated === false ? (
        <span className="w-full text-slate-500" data-testid="isolation-notice">
          One thread only: this page is not cross-origin isolated (its host sends no COOP/COEP headers), so
          the browser withholds the shared memory that WASM threads need. See docs/HOSTING.md.
        </span>
      ) : null}
      {provider.notice ? (
        <span
          role="status"
          className="w-full rounded bg-amber-50 px-2 py-1 text-amber-900"
          data-testid="provider-notice"
        >
          {provider.notice}
        </span>
      ) : null}
    </div>
  );
}
