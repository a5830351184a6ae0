import { useMemo, type KeyboardEvent } from 'react';
import { dot } from '../lib/similarity';
import { chwToRgba } from '../lib/preprocess';
import { formatMs } from '../lib/format';
import { linearScale, niceTicks, polylinePoints, rasterCell, valueExtent } from '../lib/tokenOrder';
import { activePrompts } from '../store/actions';
import { useStore } from '../store/store';
import {
  closeOrder,
  openOrder,
  orderFill,
  setOrderFill,
  setOrderHover,
  setOrderK,
  useOrderStore,
} from '../store/tokenOrder';
import { PixelCanvas } from './PixelCanvas';

/** Okabe–Ito colours with a dash pattern each: a line is told apart by its number, dashes and colour. */
const SERIES = [
  { stroke: '#0072B2', dash: '' },
  { stroke: '#D55E00', dash: '6 3' },
  { stroke: '#009E73', dash: '2 2' },
  { stroke: '#CC79A7', dash: '8 2 2 2' },
  { stroke: '#E69F00', dash: '4 4' },
  { stroke: '#56B4E9', dash: '1 3' },
  { stroke: '#000000', dash: '10 3' },
  { stroke: '#999933', dash: '3 1' },
];

const CHART = { width: 360, height: 180, left: 44, right: 28, top: 10, bottom: 34 };

/**
 * Token order panel of the token lab: the lab's ids in raster order (hover linked to the lab grid), a prefix slider
 * that decodes the first k tokens with the rest filled, and TokLIP similarity vs k per prompt. Render only; state
 * and runs live in src/store/tokenOrder.ts.
 */
export function TokenOrder({ imageId }: { imageId: string }) {
  const order = useOrderStore((s) => s.orders[imageId]);
  const lab = useStore((s) => s.labs[imageId]);
  const image = useStore((s) => s.images.find((im) => im.id === imageId));
  const promptList = useStore((s) => s.prompts);
  const textEmbeddings = useStore((s) => s.text.embeddings);
  const codebookSize = useStore((s) => s.model.manifest?.codebook.size ?? 0);
  const prompts = useMemo(() => activePrompts(promptList), [promptList]);
  const S = image?.size ?? 0;
  const prefix = order?.prefix;
  const prefixRgba = useMemo(() => (prefix && S ? chwToRgba(prefix.recon, S, S) : null), [prefix, S]);
  const sweep = order?.sweep;
  // cos[prompt][point], null where a prompt is not embedded yet
  const series = useMemo(
    () =>
      prompts.map((p) => {
        const t = textEmbeddings[p];
        return (sweep?.points ?? []).map((pt) => (t ? dot(pt.embedding, t) : null));
      }),
    [prompts, textEmbeddings, sweep],
  );
  const teacherSeries = useMemo(
    () =>
      prompts.map((p) => {
        const t = textEmbeddings[p];
        return (sweep?.points ?? []).map((pt) =>
          t && pt.teacherEmbedding ? dot(pt.teacherEmbedding, t) : null,
        );
      }),
    [prompts, textEmbeddings, sweep],
  );

  if (!lab || !image) return null;
  const ids = lab.history.present;
  const { w } = lab.grid;
  const n = ids.length;
  const titleId = `${imageId}-order-title`;

  if (!order?.open)
    return (
      <div className="mt-3">
        <button
          type="button"
          className="btn text-xs"
          aria-expanded={false}
          aria-controls={`${imageId}-order`}
          onClick={() => openOrder(imageId)}
        >
          Show token order (prefixes, similarity vs k)
        </button>
      </div>
    );

  const fill = orderFill(imageId) ?? 0;
  const k = order.k;
  const hover = order.hover;
  const points = sweep?.points ?? [];
  const total = sweep?.ks.length ?? 0;
  const sweepDone = !order.sweepRunning && total > 0 && points.length === total;
  const busy = order.prefixPending || order.sweepRunning;
  const prefixShown = prefix && prefix.k === k && prefix.fill === fill;
  const optionId = (i: number) => `${imageId}-order-pos-${i}`;
  const describe = (i: number) => {
    const { row, col } = rasterCell(i, w);
    return `position ${i + 1} (row ${row + 1}, column ${col + 1}): token ${ids[i]}${i < k ? '' : `, after the prefix (decoded as ${fill})`}`;
  };

  const onStripKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const at = hover ?? 0;
    const step: Record<string, number> = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: w, ArrowUp: -w };
    let next: number | null = null;
    if (e.key in step) next = Math.max(0, Math.min(n - 1, at + step[e.key]!));
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = n - 1;
    else if (e.key === 'Enter' || e.key === ' ') {
      setOrderK(imageId, at + 1);
      e.preventDefault();
      return;
    }
    if (next === null) return;
    e.preventDefault();
    setOrderHover(imageId, next);
  };

  // ---- chart geometry
  const ks = points.map((p) => p.k);
  const all = series.flat().filter((v): v is number => v !== null);
  const extent = valueExtent(all) ?? [0, 1];
  const x = linearScale([0, n], [CHART.left, CHART.width - CHART.right]);
  const y = linearScale(extent, [CHART.height - CHART.bottom, CHART.top]);
  const yTicks = niceTicks(extent[0], extent[1], 6);
  const xTicks = [0, Math.round(n / 4), Math.round(n / 2), Math.round((3 * n) / 4), n];
  const chartSummary = prompts
    .map((p, i) => {
      const s = series[i]!;
      const first = s[0];
      const last = s[s.length - 1];
      if (first === null || first === undefined || last === null || last === undefined || s.length < 2)
        return null;
      return `“${p}”: ${first.toFixed(3)} at k = 0 to ${last.toFixed(3)} at k = ${ks[ks.length - 1]}`;
    })
    .filter(Boolean)
    .join('; ');

  return (
    <section
      id={`${imageId}-order`}
      className="mt-3 rounded border border-slate-200 bg-white p-2"
      aria-labelledby={titleId}
      aria-busy={busy}
      data-testid="token-order"
      data-order-k={k}
      data-order-fill={fill}
      data-order-state={busy ? 'busy' : 'idle'}
      data-order-prefix-k={prefixShown ? prefix.k : undefined}
      data-order-sweep={
        sweepDone ? JSON.stringify(points.map((p, j) => [p.k, series.map((s) => s[j])])) : undefined
      }
    >
      <header className="mb-1 flex flex-wrap items-baseline justify-between gap-2">
        <h5 id={titleId} className="text-xs font-semibold text-slate-900">
          Token order — the ids as an autoregressive model reads them (row by row)
        </h5>
        <button
          type="button"
          className="btn text-xs"
          aria-expanded={true}
          aria-controls={`${imageId}-order`}
          onClick={() => closeOrder(imageId)}
        >
          Hide token order
        </button>
      </header>
      <p id={`${imageId}-order-help`} className="mb-1 text-xs text-slate-600">
        Hover an id (or move with the arrow keys) to find its token in the grid above, and a grid token to
        find its id here. Enter or a click on an id sets the prefix to end there.
      </p>
      <div
        role="listbox"
        tabIndex={0}
        aria-label={`Token ids of ${image.name} in raster order, ${n} tokens; the first ${k} form the prefix`}
        aria-describedby={`${imageId}-order-help`}
        aria-activedescendant={hover !== null ? optionId(hover) : undefined}
        onKeyDown={onStripKey}
        onFocus={() => hover === null && setOrderHover(imageId, 0)}
        onBlur={() => setOrderHover(imageId, null)}
        onPointerLeave={() => setOrderHover(imageId, null)}
        className="flex max-h-32 flex-wrap gap-x-1 overflow-y-auto rounded bg-slate-50 p-1 font-mono text-[10px] leading-4 outline-none focus-visible:ring-2 focus-visible:ring-sky-500"
        data-testid="order-strip"
      >
        {Array.from(ids, (id, i) => (
          <span
            key={i}
            id={optionId(i)}
            role="option"
            aria-selected={i === hover}
            aria-label={describe(i)}
            data-pos={i}
            onPointerEnter={() => setOrderHover(imageId, i)}
            onClick={() => setOrderK(imageId, i + 1)}
            className={`cursor-pointer rounded px-0.5 ${i === hover ? 'bg-fuchsia-700 text-white' : i < k ? 'text-slate-900' : 'text-slate-400 line-through'}`}
          >
            {id}
          </span>
        ))}
      </div>
      <p className="mt-1 text-xs text-slate-600" data-testid="order-hover" aria-live="off">
        {hover !== null
          ? describe(hover)
          : `Ids after the prefix are struck through: they are decoded as code ${fill}.`}
      </p>

      <div className="mt-2 grid gap-3 lg:grid-cols-2">
        <div className="text-xs">
          <label className="flex flex-col gap-1">
            <span>
              Prefix length k: <strong data-testid="order-k-text">{k}</strong> of {n} tokens (
              {((100 * k) / n).toFixed(0)} %)
            </span>
            <input
              type="range"
              min={0}
              max={n}
              step={1}
              value={k}
              onChange={(e) => setOrderK(imageId, Number(e.target.value))}
              aria-valuetext={`${k} of ${n} tokens`}
              data-testid="order-k"
            />
          </label>
          <div className="mt-2 flex flex-wrap items-center gap-2">
            <label className="flex items-center gap-1">
              Fill the rest with code
              <input
                type="number"
                min={0}
                max={codebookSize - 1}
                step={1}
                className="w-20 rounded border border-slate-300 px-1 py-0.5"
                value={fill}
                onChange={(e) => {
                  const v = e.target.value.trim();
                  if (v !== '') setOrderFill(imageId, Number(v));
                }}
                data-testid="order-fill"
              />
            </label>
            <button
              type="button"
              className="btn"
              disabled={order.fill === null}
              onClick={() => setOrderFill(imageId, null)}
            >
              Most common code
            </button>
            <button
              type="button"
              className="btn"
              disabled={order.fill === lab.code}
              onClick={() => setOrderFill(imageId, lab.code)}
            >
              The lab&apos;s chosen code ({lab.code})
            </button>
          </div>
          <p className="mt-1 text-slate-500">
            {order.fill === null ? 'Fill: the most common code of the ids.' : 'Fill: chosen by you.'}
          </p>
          {order.error ? (
            <p role="alert" className="mt-1 rounded bg-red-50 p-1 text-red-800" data-testid="order-error">
              {order.error}
            </p>
          ) : null}
        </div>
        <figure className="max-w-[12rem]">
          {prefixRgba ? (
            <PixelCanvas
              rgba={prefixRgba}
              width={S}
              height={S}
              label={`${image.name} decoded from its first ${prefix!.k} tokens, the rest code ${prefix!.fill}`}
              testId="order-prefix-recon"
              className={prefixShown ? '' : 'opacity-60'}
            />
          ) : (
            <div className="aspect-square animate-pulse rounded bg-slate-100" />
          )}
          <figcaption className="mt-1 text-xs text-slate-600" data-testid="order-prefix-caption">
            {prefix
              ? `first ${prefix.k} tokens + code ${prefix.fill}, shown ${formatMs(prefix.ms)} after asking`
              : 'decoding…'}
            {prefixShown ? '' : ' (updating…)'}
          </figcaption>
        </figure>
      </div>

      <div className="mt-2 text-xs">
        <div className="flex flex-wrap items-center gap-2">
          <span id={`${imageId}-order-progress-label`}>
            TokLIP similarity vs k: {points.length} of {total} prefix lengths computed
          </span>
          <progress
            max={total || 1}
            value={points.length}
            aria-labelledby={`${imageId}-order-progress-label`}
            className="h-2 w-32"
          />
        </div>
        <p role="status" aria-live="polite" className="text-slate-600" data-testid="order-status">
          {order.message}
        </p>
        <svg
          viewBox={`0 0 ${CHART.width} ${CHART.height}`}
          className="mt-1 w-full max-w-md"
          role="img"
          aria-labelledby={`${imageId}-chart-title ${imageId}-chart-desc`}
          data-testid="order-chart"
        >
          <title id={`${imageId}-chart-title`}>
            TokLIP cosine of the prefix against each prompt, by prefix length k
          </title>
          <desc id={`${imageId}-chart-desc`}>
            {chartSummary ? `${chartSummary}. The table below lists every value.` : 'Not computed yet.'}
          </desc>
          <line
            x1={CHART.left}
            x2={CHART.width - CHART.right}
            y1={CHART.height - CHART.bottom}
            y2={CHART.height - CHART.bottom}
            stroke="#64748b"
          />
          <line
            x1={CHART.left}
            x2={CHART.left}
            y1={CHART.top}
            y2={CHART.height - CHART.bottom}
            stroke="#64748b"
          />
          {xTicks.map((t) => (
            <text
              key={`x${t}`}
              x={x(t)}
              y={CHART.height - CHART.bottom + 12}
              fontSize="9"
              textAnchor="middle"
            >
              {t}
            </text>
          ))}
          <text
            x={(CHART.left + CHART.width - CHART.right) / 2}
            y={CHART.height - 4}
            fontSize="9"
            textAnchor="middle"
          >
            prefix length k (tokens)
          </text>
          {yTicks.map((t, i) => (
            <g key={`y${i}`}>
              <line
                x1={CHART.left}
                x2={CHART.width - CHART.right}
                y1={y(t)}
                y2={y(t)}
                stroke="#e2e8f0"
                strokeWidth="0.5"
              />
              <text x={CHART.left - 4} y={y(t) + 3} fontSize="9" textAnchor="end">
                {t.toFixed(2)}
              </text>
            </g>
          ))}
          <text
            x={10}
            y={CHART.top + 4}
            fontSize="9"
            transform={`rotate(-90 10 ${CHART.top + 4})`}
            textAnchor="end"
          >
            cosine
          </text>
          <line
            x1={x(k)}
            x2={x(k)}
            y1={CHART.top}
            y2={CHART.height - CHART.bottom}
            stroke="#a21caf"
            strokeDasharray="2 2"
          />
          {series.map((s, i) => {
            const style = SERIES[i % SERIES.length]!;
            const last = [...s].reverse().findIndex((v) => v !== null);
            const li = last < 0 ? -1 : s.length - 1 - last;
            return (
              <g key={`s${i}`}>
                <polyline
                  points={polylinePoints(ks, s, x, y)}
                  fill="none"
                  stroke={style.stroke}
                  strokeDasharray={style.dash}
                  strokeWidth="1.5"
                />
                {li >= 0 ? (
                  <text x={x(ks[li]!) + 3} y={y(s[li]!) + 3} fontSize="9" fill={style.stroke}>
                    {i + 1}
                  </text>
                ) : null}
              </g>
            );
          })}
        </svg>
        <ol className="mt-1 flex flex-wrap gap-x-3 gap-y-0.5" aria-label="Chart legend">
          {prompts.map((p, i) => {
            const style = SERIES[i % SERIES.length]!;
            return (
              <li key={`${i}-${p}`} className="flex items-center gap-1">
                <svg width="22" height="6" aria-hidden="true">
                  <line
                    x1="0"
                    x2="22"
                    y1="3"
                    y2="3"
                    stroke={style.stroke}
                    strokeDasharray={style.dash}
                    strokeWidth="2"
                  />
                </svg>
                {i + 1}. {p}
              </li>
            );
          })}
        </ol>
        <details className="mt-1">
          <summary className="cursor-pointer text-slate-700">Chart data as a table</summary>
          <table className="mt-1 text-left font-mono text-[10px]" data-testid="order-table">
            <caption className="sr-only">
              TokLIP cosine of the prefix (tokens) and the teacher&apos;s cosine on its decoded pixels, per
              prefix length k
            </caption>
            <thead>
              <tr>
                <th scope="col" className="pr-2 font-normal">
                  k (tokens)
                </th>
                {prompts.map((p, i) => (
                  <th key={`${i}-${p}`} scope="col" className="pr-2 font-normal" title={p}>
                    {i + 1}. TokLIP
                    {teacherSeries[i]?.some((v) => v !== null) ? ' / teacher' : ''}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {points.map((pt, j) => (
                <tr key={pt.k}>
                  <th scope="row" className="pr-2 font-normal">
                    {pt.k}
                  </th>
                  {prompts.map((p, i) => {
                    const c = series[i]![j];
                    const t = teacherSeries[i]![j];
                    return (
                      <td key={`${i}-${p}`} className="pr-2">
                        {c === null || c === undefined ? '–' : c.toFixed(3)}
                        {t !== null && t !== undefined ? ` / ${t.toFixed(3)}` : ''}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      </div>
    </section>
  );
}
