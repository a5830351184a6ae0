import { useCallback, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { cssRgb, tokenMapRgba } from './colour';
import { PixelCanvas } from './PixelCanvas';

export interface Cell {
  row: number;
  col: number;
}

interface Props {
  name: string;
  ids: Int32Array;
  h: number;
  w: number;
  /** model-resolution RGBA of the input */
  imageRgba: Uint8ClampedArray;
  size: number;
  colours: Uint8ClampedArray | undefined;
  codebook: Float32Array | undefined;
  dim: number;
}

/**
 * The h×w token grid over the image (a keyboard-navigable ARIA grid, roving tabindex, arrow keys / Home / End /
 * PageUp / PageDown) and a standalone token map coloured by the codebook PCA. Hover or focus shows the cell.
 */
export function TokenGrid({ name, ids, h, w, imageRgba, size, colours, codebook, dim }: Props) {
  const [active, setActive] = useState<Cell>({ row: 0, col: 0 });
  const [shown, setShown] = useState(false);
  const [tint, setTint] = useState(false);
  const gridRef = useRef<HTMLDivElement>(null);
  const mapRgba = useMemo(() => (colours ? tokenMapRgba(ids, colours) : null), [ids, colours]);

  const focusCell = useCallback(
    (row: number, col: number) => {
      const r = Math.max(0, Math.min(h - 1, row));
      const c = Math.max(0, Math.min(w - 1, col));
      setActive({ row: r, col: c });
      setShown(true);
      gridRef.current?.querySelector<HTMLElement>(`[data-row="${r}"][data-col="${c}"]`)?.focus();
    },
    [h, w],
  );

  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const { row, col } = active;
    const moves: Record<string, [number, number]> = {
      ArrowUp: [row - 1, col],
      ArrowDown: [row + 1, col],
      ArrowLeft: [row, col - 1],
      ArrowRight: [row, col + 1],
      Home: e.ctrlKey ? [0, 0] : [row, 0],
      End: e.ctrlKey ? [h - 1, w - 1] : [row, w - 1],
      PageUp: [0, col],
      PageDown: [h - 1, col],
    };
    const m = moves[e.key];
    if (m) {
      e.preventDefault();
      focusCell(m[0], m[1]);
    }
  };

  const id = ids[active.row * w + active.col] ?? 0;
  const vector = codebook ? Array.from(codebook.subarray(id * dim, (id + 1) * dim)) : [];
  const countInImage = useMemo(() => ids.reduce((n, v) => (v === id ? n + 1 : n), 0), [ids, id]);

  const cells = [];
  for (let r = 0; r < h; r++) {
    const row = [];
    for (let c = 0; c < w; c++) {
      const cid = ids[r * w + c]!;
      const isActive = r === active.row && c === active.col;
      row.push(
        <div
          key={c}
          role="gridcell"
          tabIndex={isActive ? 0 : -1}
          data-row={r}
          data-col={c}
          aria-label={`row ${r + 1}, column ${c + 1}: token ${cid}`}
          aria-selected={isActive && shown}
          onFocus={() => {
            setActive({ row: r, col: c });
            setShown(true);
          }}
          onMouseEnter={() => {
            setActive({ row: r, col: c });
            setShown(true);
          }}
          className={`border-[0.5px] border-white/35 outline-none focus-visible:z-10 focus-visible:ring-2 focus-visible:ring-amber-400 ${
            isActive && shown ? 'z-10 ring-2 ring-amber-400' : ''
          }`}
          style={tint ? { backgroundColor: cssRgb(colours, cid), opacity: 0.55 } : undefined}
        />,
      );
    }
    cells.push(
      <div role="row" key={r} className="contents">
        {row}
      </div>,
    );
  }

  return (
    <div>
      <div className="grid grid-cols-2 gap-3">
        <figure>
          <div className="relative">
            <PixelCanvas rgba={imageRgba} width={size} height={size} label={`${name} at model resolution`} />
            <div
              ref={gridRef}
              role="grid"
              aria-label={`Token grid of ${name}: ${h} rows by ${w} columns. Arrow keys move between tokens.`}
              aria-rowcount={h}
              aria-colcount={w}
              data-testid="token-grid"
              onKeyDown={onKey}
              onMouseLeave={() => setShown(false)}
              className="absolute inset-0 grid"
              style={{ gridTemplateColumns: `repeat(${w}, 1fr)`, gridTemplateRows: `repeat(${h}, 1fr)` }}
            >
              {cells}
            </div>
          </div>
          <figcaption className="mt-1 flex items-center justify-between text-xs text-slate-600">
            <span>
              Input at {size}×{size} px with its {h}×{w} tokens
            </span>
            <label className="flex items-center gap-1">
              <input type="checkbox" checked={tint} onChange={(e) => setTint(e.target.checked)} />
              tint
            </label>
          </figcaption>
        </figure>
        <figure>
          <div className="relative">
            {mapRgba ? (
              <PixelCanvas
                rgba={mapRgba}
                width={w}
                height={h}
                pixelated
                label={`Token map of ${name}: each of the ${h}×${w} tokens coloured by a PCA of its codebook vector`}
                testId="token-map"
              />
            ) : null}
            {shown ? (
              <div
                aria-hidden="true"
                className="pointer-events-none absolute ring-2 ring-amber-400"
                style={{
                  left: `${(active.col / w) * 100}%`,
                  top: `${(active.row / h) * 100}%`,
                  width: `${100 / w}%`,
                  height: `${100 / h}%`,
                }}
              />
            ) : null}
          </div>
          <figcaption className="mt-1 text-xs text-slate-600">Token map (codebook PCA → RGB)</figcaption>
        </figure>
      </div>
      <div
        className="mt-2 min-h-[3.5rem] rounded bg-slate-100 px-2 py-1 font-mono text-xs text-slate-800"
        aria-live="polite"
        data-testid="token-inspector"
      >
        {shown ? (
          <>
            <div className="flex items-center gap-2">
              <span
                aria-hidden="true"
                className="inline-block h-3 w-3 rounded-sm"
                style={{ backgroundColor: cssRgb(colours, id) }}
              />
              <span>
                token <strong data-testid="inspector-id">{id}</strong> · row {active.row} · col {active.col} ·
                used {countInImage}× in this image
              </span>
            </div>
            <div className="truncate" title={vector.map((v) => v.toFixed(4)).join(', ')}>
              codebook[{id}] = [{vector.map((v) => v.toFixed(3)).join(', ')}]
            </div>
          </>
        ) : (
          <span className="text-slate-500">Hover a token, or focus the grid and use the arrow keys.</span>
        )}
      </div>
    </div>
  );
}
