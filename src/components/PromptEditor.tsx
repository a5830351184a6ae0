import { useId } from 'react';
import { activePrompts, resetPrompts, setPromptsFromText } from '../store/actions';
import { useStore } from '../store/store';
import { formatMs } from '../lib/format';

/** Editable prompt list, one per line. Editing re-embeds only the changed text. */
export function PromptEditor() {
  const prompts = useStore((s) => s.prompts);
  const text = useStore((s) => s.text);
  const ready = useStore((s) => s.model.status === 'ready');
  const id = useId();
  const value = prompts.map((p) => p.text).join('\n');
  const n = activePrompts(prompts).length;
  return (
    <section
      aria-labelledby={`${id}-title`}
      className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm"
    >
      <h2 id={`${id}-title`} className="mb-2 text-base font-semibold">
        Prompts
      </h2>
      <label htmlFor={`${id}-text`} className="text-xs text-slate-600">
        One prompt per line ({n} prompt{n === 1 ? '' : 's'})
      </label>
      <textarea
        id={`${id}-text`}
        data-testid="prompts"
        value={value}
        onChange={(e) => setPromptsFromText(e.target.value)}
        rows={Math.min(12, Math.max(4, prompts.length + 1))}
        spellCheck={false}
        className="mt-1 w-full rounded border border-slate-300 p-2 font-mono text-sm focus-visible:ring-2 focus-visible:ring-sky-500 focus-visible:outline-none"
      />
      <div className="mt-1 flex items-center justify-between text-xs text-slate-600">
        <button type="button" className="btn" onClick={resetPrompts} disabled={!ready}>
          Reset to the model's defaults
        </button>
        <span aria-live="polite" data-testid="text-status">
          {text.error
            ? `Text encoder failed: ${text.error}`
            : text.pending
              ? 'embedding prompts…'
              : text.lastMs !== undefined
                ? `text encoder ${formatMs(text.lastMs)}`
                : ''}
        </span>
      </div>
    </section>
  );
}
