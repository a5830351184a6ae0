import { useMemo } from 'react';
import { codeUsage } from '../lib/tokens';
import { cssRgb } from './colour';

interface Props {
  ids: Int32Array;
  codebookSize: number;
  colours: Uint8ClampedArray | undefined;
  top?: number;
}

/** Code usage of one image: the most used codes as bars, plus how many distinct codes appear. */
export function Histogram({ ids, codebookSize, colours, top = 24 }: Props) {
  const usage = useMemo(() => codeUsage(ids), [ids]);
  const shown = usage.slice(0, top);
  const max = shown[0]?.count ?? 1;
  return (
    <figure>
      <figcaption className="mb-1 text-xs text-slate-600">
        Code usage: {usage.length} distinct of {codebookSize} codes ({ids.length} tokens); top {shown.length}
      </figcaption>
      <ol className="flex h-20 items-end gap-px" aria-label="Most used codes">
        {shown.map(({ id, count }) => (
          <li
            key={id}
            className="min-w-0 flex-1 rounded-t-sm"
            style={{ height: `${(count / max) * 100}%`, backgroundColor: cssRgb(colours, id) }}
            title={`code ${id}: ${count} tokens`}
            aria-label={`code ${id}: ${count} tokens`}
          />
        ))}
      </ol>
    </figure>
  );
}
