import { useEffect, useMemo, useRef, type KeyboardEvent, type PointerEvent } from 'react';
import { formatLabTiming } from '../lib/format';
import { deltaText, labScores, type LabScoreRow } from '../lib/labScores';
import { chwToRgba } from '../lib/preprocess';
import { canRedo, canUndo, codesByUsage, searchCodes } from '../lib/tokenEdit';
import { activePrompts } from '../store/actions';
import {
  closeLab,
  labCopy,
  labCurrent,
  labDragTo,
  labFill,
  labKeyDown,
  labPickCode,
  labPickStep,
  labPointerDown,
  labRedo,
  requestCodePatches,
  labReset,
  labSetCode,
  labSetCopyOffset,
  labSetCopySource,
  labSetQuery,
  labShuffle,
  labUndo,
} from '../store/lab';
import { useStore } from '../store/store';
import { setOrderHover, useOrderStore } from '../store/tokenOrder';
import { cssRgb } from './colour';
import { LabExport } from './LabExport';
import { PixelCanvas } from './PixelCanvas';
import { TokenOrder } from './TokenOrder';

/** Swatches rendered at once; the rest are one id search away (a 16k codebook would be 16k buttons). */
const MAX_SWATCHES = 192;
/** Swatches that get a decoded patch: the first rows of the picker (each run of the decoder previews ~25–64). */
const PREVIEW_LIMIT = 48;
/** Swatches per row of the picker (Up/Down move by a row). */
const PICKER_COLUMNS = 12;

function Delta({ d }: { d: number | null }) {
  if (d === null) return <span className="text-slate-400">–</span>;
  const t = deltaText(d);
  const tone = t.arrow === '↑' ? 'text-emerald-700' : t.arrow === '↓' ? 'text-red-700' : 'text-slate-500';
  return (
    <span className={`font-mono ${tone}`}>
      <span aria-hidden="true">
        {t.arrow} {t.text}
      </span>
      <span className="sr-only">{t.label}</span>
    </span>
  );
}

/** The token lab of one image: render only; state and every operation live in src/store/lab.ts. */
export function TokenLab({ imageId }: { imageId: string }) {
  const lab = useStore((s) => s.labs[imageId]);
  const image = useStore((s) => s.images.find((im) => im.id === imageId));
  const images = useStore((s) => s.images);
  const manifest = useStore((s) => s.model.manifest);
  const colours = useStore((s) => s.model.codeColours);
  const promptList = useStore((s) => s.prompts);
  const textEmbeddings = useStore((s) => s.text.embeddings);
  const patches = useStore((s) => s.codePatches);
  // the token order panel's hovered position, outlined here too (null while that panel is closed)
  const orderHover = useOrderStore((s) => (s.orders[imageId]?.open ? s.orders[imageId].hover : null));
  const gridRef = useRef<HTMLDivElement>(null);
  const pickerRef = useRef<HTMLDivElement>(null);
  const dragging = useRef(false);

  useEffect(() => {
    const end = () => (dragging.current = false);
    window.addEventListener('pointerup', end);
    window.addEventListener('pointercancel', end);
    return () => {
      window.removeEventListener('pointerup', end);
      window.removeEventListener('pointercancel', end);
    };
  }, []);

  const present = lab?.history.present;
  const base = lab?.base;
  const query = lab?.query ?? '';
  const modelRgb = image?.modelRgb;
  const codebookSize = manifest?.codebook.size ?? 0;
  const entries = useMemo(
    () =>
      present
        ? codesByUsage(
            codebookSize,
            present,
            images.flatMap((im) => (im.ids ? [im.ids] : [])),
          )
        : [],
    [codebookSize, present, images],
  );
  const found = useMemo(() => searchCodes(entries, query), [entries, query]);
  const shown = found.slice(0, MAX_SWATCHES);
  const open = lab?.open ?? false;
  const previewKey = shown
    .slice(0, PREVIEW_LIMIT)
    .map((e) => e.id)
    .join(',');
  useEffect(() => {
    if (open && previewKey) requestCodePatches(previewKey.split(',').map(Number));
  }, [open, previewKey]);
  const prompts = useMemo(() => activePrompts(promptList), [promptList]);
  const current = lab ? labCurrent(lab) : undefined;
  const shownResult = current ?? lab?.result ?? lab?.base;
  // While an edit runs, the last result stays on screen (dimmed) rather than the table collapsing.
  const rows: LabScoreRow[] | null = useMemo(
    () => (base && shownResult ? labScores(prompts, textEmbeddings, base, shownResult) : null),
    [prompts, textEmbeddings, base, shownResult],
  );
  const S = image?.size ?? 0;
  const inputRgba = useMemo(() => (modelRgb ? chwToRgba(modelRgb, S, S) : null), [modelRgb, S]);
  const baseRgba = useMemo(() => (base ? chwToRgba(base.recon, S, S) : null), [base, S]);
  const editRgba = useMemo(() => (shownResult ? chwToRgba(shownResult.recon, S, S) : null), [shownResult, S]);

  if (!lab?.open || !image || !present) return null;
  const { h, w } = lab.grid;
  const sel = lab.selection;
  const selected = new Set(sel.cells);
  const busy = lab.pendingSeq !== null || !lab.base;
  const edits = lab.history.past.length;
  const name = image.name;
  const cellId = (i: number) => `${imageId}-lab-cell-${i}`;
  const others = images.filter((im) => im.id !== imageId && im.ids && im.grid);
  const chosenHere = entries.find((e) => e.id === lab.code)?.here ?? 0;

  const cellAt = (e: PointerEvent<HTMLDivElement>): number | null => {
    const el = document.elementFromPoint(e.clientX, e.clientY)?.closest<HTMLElement>('[data-cell]');
    if (!el || !gridRef.current?.contains(el)) return null;
    return Number(el.dataset.cell);
  };
  const onPointerDown = (e: PointerEvent<HTMLDivElement>) => {
    const cell = cellAt(e);
    if (cell === null || e.button !== 0) return;
    e.preventDefault(); // no text selection while dragging
    gridRef.current?.focus();
    dragging.current = true;
    labPointerDown(imageId, cell, { shift: e.shiftKey, toggle: e.ctrlKey || e.metaKey });
  };
  const onPointerMove = (e: PointerEvent<HTMLDivElement>) => {
    const cell = cellAt(e);
    if (cell !== null) setOrderHover(imageId, cell);
    if (!dragging.current) return;
    if (cell !== null) labDragTo(imageId, cell);
  };
  const onGridKey = (e: KeyboardEvent<HTMLDivElement>) => {
    if (labKeyDown(imageId, e, 'grid')) {
      e.preventDefault();
      e.stopPropagation();
    }
  };
  const onLabKey = (e: KeyboardEvent<HTMLElement>) => {
    // text fields keep their own undo
    if ((e.target as HTMLElement).closest('input, select, textarea')) return;
    if (labKeyDown(imageId, e, 'lab')) e.preventDefault();
  };
  const onPickerKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const step: Record<string, number> = {
      ArrowRight: 1,
      ArrowLeft: -1,
      ArrowDown: PICKER_COLUMNS,
      ArrowUp: -PICKER_COLUMNS,
    };
    const d = step[e.key];
    if (d === undefined) return;
    e.preventDefault();
    const next = labPickStep(
      imageId,
      shown.map((x) => x.id),
      d,
    );
    if (next !== null) pickerRef.current?.querySelector<HTMLElement>(`[data-code="${next}"]`)?.focus();
  };

  const cells = [];
  for (let r = 0; r < h; r++) {
    const row = [];
    for (let c = 0; c < w; c++) {
      const i = r * w + c;
      const id = present[i]!;
      const isSel = selected.has(i);
      const changed = id !== lab.original[i];
      row.push(
        <div
          key={c}
          id={cellId(i)}
          role="gridcell"
          data-cell={i}
          aria-selected={isSel}
          aria-label={`row ${r + 1}, column ${c + 1}: token ${id}${changed ? `, edited (was ${lab.original[i]})` : ''}`}
          data-order-hover={i === orderHover ? 'true' : undefined}
          className={`relative ${i === sel.cursor ? 'z-10 ring-amber-500 group-focus-visible:ring-2' : ''} ${i === orderHover ? 'z-20 outline-2 outline-offset-[-1px] outline-fuchsia-700 outline-dashed' : ''}`}
          style={{ backgroundColor: cssRgb(colours, id) }}
        >
          {isSel ? (
            // the mark is shape (a ringed dot), not a colour change, so it reads on any code colour
            <span
              aria-hidden="true"
              className="absolute inset-[22%] rounded-full border-2 border-white bg-slate-900"
            />
          ) : null}
          {i === orderHover ? (
            // the token order panel points here: a shape (a diamond), not only the dashed outline's colour
            <span
              aria-hidden="true"
              className="absolute inset-[30%] rotate-45 border border-white bg-fuchsia-700"
            />
          ) : null}
          {changed && !isSel ? (
            <span
              aria-hidden="true"
              className="absolute top-0 right-0 h-1.5 w-1.5 bg-white ring-1 ring-black"
            />
          ) : null}
        </div>,
      );
    }
    cells.push(
      <div role="row" key={r} className="contents">
        {row}
      </div>,
    );
  }

  return (
    <section
      className="mt-4 rounded border border-sky-200 bg-sky-50/40 p-3"
      aria-labelledby={`${imageId}-lab-title`}
      aria-busy={busy}
      id={`${imageId}-lab`}
      data-testid="token-lab"
      data-lab-state={busy ? 'busy' : 'idle'}
      data-lab-ids={JSON.stringify(Array.from(present))}
      data-lab-selection={JSON.stringify(sel.cells)}
      data-lab-code={lab.code}
      data-lab-cosines={rows && current ? JSON.stringify(rows.map((x) => x.cos)) : undefined}
      data-lab-teacher-cosines={rows && current ? JSON.stringify(rows.map((x) => x.teacherCos)) : undefined}
      onKeyDown={onLabKey}
    >
      <header className="mb-2 flex flex-wrap items-baseline justify-between gap-2">
        <h4 id={`${imageId}-lab-title`} className="text-sm font-semibold text-slate-900">
          Token lab — edit the ids of {name}
        </h4>
        <button type="button" className="btn text-xs" onClick={() => closeLab(imageId)}>
          Close the token lab
        </button>
      </header>
      <p id={`${imageId}-lab-help`} className="mb-2 text-xs text-slate-600">
        Click, Shift+click or drag to select tokens (Ctrl/⌘ adds). In the grid: arrow keys move, Shift+arrows
        extend, Space toggles, Escape clears, Ctrl+A selects all; Enter sets the chosen code, F fills, S
        shuffles, C copies; Ctrl+Z / Ctrl+Shift+Z undo and redo.
      </p>

      <div className="grid gap-4 lg:grid-cols-2">
        <div>
          <div
            ref={gridRef}
            role="grid"
            tabIndex={0}
            aria-multiselectable="true"
            aria-label={`Editable tokens of ${name}: ${h} rows by ${w} columns, ${sel.cells.length} selected`}
            aria-describedby={`${imageId}-lab-help`}
            aria-activedescendant={cellId(sel.cursor)}
            aria-rowcount={h}
            aria-colcount={w}
            data-testid="lab-grid"
            onKeyDown={onGridKey}
            onPointerDown={onPointerDown}
            onPointerMove={onPointerMove}
            onPointerLeave={() => setOrderHover(imageId, null)}
            className="group grid aspect-square w-full max-w-sm cursor-crosshair touch-none select-none outline-none focus-visible:ring-2 focus-visible:ring-sky-500"
            style={{ gridTemplateColumns: `repeat(${w}, 1fr)`, gridTemplateRows: `repeat(${h}, 1fr)` }}
          >
            {cells}
          </div>
          <p className="mt-1 text-xs text-slate-600" data-testid="lab-selection-summary">
            {sel.cells.length} of {h * w} tokens selected · cursor row {Math.floor(sel.cursor / w) + 1},
            column {(sel.cursor % w) + 1} (token {present[sel.cursor]}) · {edits} edit{edits === 1 ? '' : 's'}{' '}
            · colours: codebook PCA; ● selected, ▫ edited
          </p>
        </div>

        <div className="grid grid-cols-3 gap-2" aria-busy={busy}>
          <figure>
            {inputRgba ? (
              <PixelCanvas rgba={inputRgba} width={S} height={S} label={`${name}, input at ${S}×${S}`} />
            ) : null}
            <figcaption className="mt-1 text-xs text-slate-600">input</figcaption>
          </figure>
          <figure>
            {baseRgba ? (
              <PixelCanvas
                rgba={baseRgba}
                width={S}
                height={S}
                label={`${name} decoded from its unedited ids`}
                testId="lab-base-recon"
              />
            ) : (
              <div className="aspect-square animate-pulse rounded bg-slate-100" />
            )}
            <figcaption className="mt-1 text-xs text-slate-600">from the original ids</figcaption>
          </figure>
          <figure>
            {editRgba ? (
              <PixelCanvas
                rgba={editRgba}
                width={S}
                height={S}
                label={`${name} re-decoded from the edited ids`}
                testId="lab-recon"
                className={current ? '' : 'opacity-60'}
              />
            ) : (
              <div className="aspect-square animate-pulse rounded bg-slate-100" />
            )}
            <figcaption className="mt-1 text-xs text-slate-600">
              from the edited ids{current ? '' : ' (updating…)'}
            </figcaption>
          </figure>
        </div>
      </div>

      <div className="mt-3 grid gap-4 lg:grid-cols-2">
        <fieldset className="min-w-0">
          <legend className="text-xs font-medium text-slate-800">Codebook</legend>
          <div className="mt-1 flex flex-wrap items-center gap-2 text-xs">
            <label className="flex items-center gap-1">
              Find code by id
              <input
                type="search"
                inputMode="numeric"
                className="w-24 rounded border border-slate-300 px-1 py-0.5"
                value={lab.query}
                onChange={(e) => labSetQuery(imageId, e.target.value)}
                onKeyDown={(e) => {
                  // Enter picks the best match, so a code can be chosen by typing its id alone
                  if (e.key === 'Enter' && shown[0]) {
                    e.preventDefault();
                    labPickCode(imageId, shown[0].id);
                  }
                }}
                aria-describedby={`${imageId}-lab-search-help`}
                data-testid="lab-code-search"
              />
            </label>
            <span id={`${imageId}-lab-search-help`} className="sr-only">
              Enter picks the first match.
            </span>
            <span className="flex items-center gap-1" data-testid="lab-chosen-code">
              chosen:
              <span
                aria-hidden="true"
                className="inline-block h-3 w-3 rounded-sm ring-1 ring-black/30"
                style={{ backgroundColor: cssRgb(colours, lab.code) }}
              />
              code <strong>{lab.code}</strong> ({chosenHere}× here)
            </span>
          </div>
          <div
            ref={pickerRef}
            role="radiogroup"
            aria-label={`Codes, most used first (${shown.length} of ${found.length} shown)`}
            className="mt-1 grid max-h-40 gap-0.5 overflow-y-auto rounded bg-white p-1"
            style={{ gridTemplateColumns: `repeat(${PICKER_COLUMNS}, minmax(0, 1fr))` }}
            onKeyDown={onPickerKey}
            data-testid="lab-picker"
          >
            {shown.map((e, k) => {
              const checked = e.id === lab.code;
              const tabbable = checked || (k === 0 && !shown.some((x) => x.id === lab.code));
              return (
                <button
                  key={e.id}
                  type="button"
                  role="radio"
                  aria-checked={checked}
                  tabIndex={tabbable ? 0 : -1}
                  data-code={e.id}
                  aria-label={`code ${e.id}: ${e.here} here, ${e.all} in all loaded images`}
                  title={`code ${e.id}: ${e.here} here, ${e.all} in all loaded images`}
                  onClick={() => labPickCode(imageId, e.id)}
                  className={`flex flex-col items-center rounded p-0.5 text-[10px] leading-none focus-visible:ring-2 focus-visible:ring-sky-500 focus-visible:outline-none ${checked ? 'bg-slate-900 text-white' : 'text-slate-700 hover:bg-slate-100'}`}
                >
                  {patches.byCode[e.id] ? (
                    <PixelCanvas
                      rgba={patches.byCode[e.id]!}
                      width={patches.width}
                      height={patches.height}
                      pixelated
                      label={`decoded patch of code ${e.id}`}
                      className="rounded-t-sm"
                      testId="lab-code-patch"
                    />
                  ) : null}
                  <span
                    aria-hidden="true"
                    className={`block w-full ring-1 ring-black/20 ${patches.byCode[e.id] ? 'h-1.5 rounded-b-sm' : 'h-4 rounded-sm'}`}
                    style={{ backgroundColor: cssRgb(colours, e.id) }}
                  />
                  {e.id}
                </button>
              );
            })}
          </div>
          <p className="mt-1 text-xs text-slate-500">
            Each swatch: the code&apos;s PCA colour and, for the first {PREVIEW_LIMIT}, what the decoder draws
            for it (the code decoded as a uniform 3×3 square of itself, centre token shown).
          </p>
          {found.length > shown.length ? (
            <p className="mt-1 text-xs text-slate-500">
              Showing the {shown.length} most used of {found.length}; search by id for the others.
            </p>
          ) : found.length === 0 ? (
            <p className="mt-1 text-xs text-slate-500">No code id contains “{lab.query}”.</p>
          ) : null}
        </fieldset>

        <fieldset className="min-w-0 text-xs">
          <legend className="font-medium text-slate-800">Operations on the selection</legend>
          <div className="mt-1 flex flex-wrap gap-2">
            <button
              type="button"
              className="btn"
              aria-keyshortcuts="Enter"
              onClick={() => labSetCode(imageId)}
            >
              Set to code {lab.code}
            </button>
            <button type="button" className="btn" aria-keyshortcuts="F" onClick={() => labFill(imageId)}>
              Fill with the most common code around
            </button>
            <button type="button" className="btn" aria-keyshortcuts="S" onClick={() => labShuffle(imageId)}>
              Shuffle
            </button>
          </div>
          <div className="mt-2 flex flex-wrap items-center gap-2">
            <label className="flex items-center gap-1">
              Copy from
              <select
                className="max-w-[10rem] rounded border border-slate-300 px-1 py-0.5"
                value={lab.copySource ?? ''}
                onChange={(e) => labSetCopySource(imageId, e.target.value || null)}
                disabled={others.length === 0}
              >
                {others.length === 0 || !others.some((im) => im.id === lab.copySource) ? (
                  <option value="">{others.length ? '(choose an image)' : '(no other image)'}</option>
                ) : null}
                {others.map((im) => (
                  <option key={im.id} value={im.id}>
                    {im.name}
                  </option>
                ))}
              </select>
            </label>
            <label className="flex items-center gap-1">
              row offset
              <input
                type="number"
                className="w-14 rounded border border-slate-300 px-1 py-0.5"
                value={lab.copyOffset.row}
                onChange={(e) =>
                  labSetCopyOffset(imageId, { ...lab.copyOffset, row: Number(e.target.value) })
                }
              />
            </label>
            <label className="flex items-center gap-1">
              column offset
              <input
                type="number"
                className="w-14 rounded border border-slate-300 px-1 py-0.5"
                value={lab.copyOffset.col}
                onChange={(e) =>
                  labSetCopyOffset(imageId, { ...lab.copyOffset, col: Number(e.target.value) })
                }
              />
            </label>
            <button
              type="button"
              className="btn"
              aria-keyshortcuts="C"
              disabled={others.length === 0}
              onClick={() => labCopy(imageId)}
            >
              Copy tokens
            </button>
          </div>
          <div className="mt-2 flex flex-wrap gap-2">
            <button
              type="button"
              className="btn"
              aria-keyshortcuts="Control+Z"
              disabled={!canUndo(lab.history)}
              onClick={() => labUndo(imageId)}
            >
              Undo
            </button>
            <button
              type="button"
              className="btn"
              aria-keyshortcuts="Control+Shift+Z"
              disabled={!canRedo(lab.history)}
              onClick={() => labRedo(imageId)}
            >
              Redo
            </button>
            <button type="button" className="btn" onClick={() => labReset(imageId)}>
              Reset to the original ids
            </button>
          </div>
          {lab.error ? (
            <p role="alert" className="mt-2 rounded bg-red-50 p-1 text-red-800" data-testid="lab-error">
              {lab.error}
            </p>
          ) : null}
          <p role="status" aria-live="polite" className="mt-2 text-slate-600" data-testid="lab-status">
            {lab.message}
          </p>
          {current ? (
            <p
              className="text-[11px] text-slate-500"
              data-testid="lab-timing"
              data-lab-timing={JSON.stringify({ ...current.worker, waitedMs: current.ms })}
            >
              {formatLabTiming(current.worker, current.ms)}
            </p>
          ) : null}
        </fieldset>
      </div>

      <h5 className="mt-3 mb-1 text-xs font-medium text-slate-800">
        Scores of the edited ids against the prompts (Δ: change from the unedited ids)
      </h5>
      {rows ? (
        <table
          className={`w-full text-left text-xs ${current ? '' : 'opacity-60'}`}
          data-testid="lab-scores"
          aria-busy={!current}
        >
          <caption className="sr-only">
            TokLIP cosine of the edited tokens and the teacher&apos;s cosine on the re-decoded pixels, each
            with its change from the unedited ids
          </caption>
          <thead>
            <tr className="text-slate-600">
              <th scope="col" className="py-1 font-normal">
                prompt
              </th>
              <th scope="col" className="py-1 text-right font-normal">
                TokLIP (tokens)
              </th>
              <th scope="col" className="py-1 pl-2 font-normal">
                Δ
              </th>
              {rows[0]?.teacherCos !== null ? (
                <>
                  <th scope="col" className="py-1 text-right font-normal">
                    teacher (re-decoded pixels)
                  </th>
                  <th scope="col" className="py-1 pl-2 font-normal">
                    Δ
                  </th>
                </>
              ) : null}
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={`${i}-${r.prompt}`}>
                <th scope="row" className="max-w-[14rem] truncate py-0.5 font-normal" title={r.prompt}>
                  {r.prompt}
                </th>
                <td className="py-0.5 text-right font-mono">{r.cos.toFixed(3)}</td>
                <td className="py-0.5 pl-2">
                  <Delta d={r.delta} />
                </td>
                {r.teacherCos !== null ? (
                  <>
                    <td className="py-0.5 text-right font-mono">{r.teacherCos.toFixed(3)}</td>
                    <td className="py-0.5 pl-2">
                      <Delta d={r.teacherDelta} />
                    </td>
                  </>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="text-xs text-slate-500">
          {busy ? 'Decoding and embedding…' : 'Waiting for the prompt embeddings…'}
        </p>
      )}
      <TokenOrder imageId={imageId} />
      <LabExport imageId={imageId} ready={current !== undefined} />
    </section>
  );
}
