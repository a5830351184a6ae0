import { useEffect, useRef, type KeyboardEvent, type RefObject } from 'react';
import { formatMs } from '../lib/format';
import type { SideRanking } from '../lib/ranking';
import {
  moveSearchCursor,
  SEARCH_PAGE,
  setSearchCursor,
  setSearchQuery,
  showMoreResults,
  useSearch,
  type GalleryIndex,
  type SearchSide,
} from '../store/search';
import { useStore } from '../store/store';
import { HelpTip } from './HelpTip';

const optionId = (side: SearchSide, pos: number) => `search-${side}-${pos}`;

/** Scrolls the image's card into view and moves focus to it (the card is focusable for this). */
function focusCard(imageId: string | null): void {
  if (!imageId) return;
  const card = document.getElementById(`card-${imageId}`);
  if (!card) return;
  card.scrollIntoView({ block: 'start' });
  card.focus();
}

interface ListProps {
  side: SearchSide;
  title: string;
  otherTitle: string;
  list: SideRanking;
  other: SideRanking | null;
  index: GalleryIndex;
  shown: number;
  active: number;
  inputRef: RefObject<HTMLInputElement | null>;
}

function ResultList({ side, title, otherTitle, list, other, index, shown, active, inputRef }: ListProps) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (ref.current?.contains(document.activeElement))
      document.getElementById(optionId(side, active))?.scrollIntoView({ block: 'nearest' });
  }, [side, active]);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (['ArrowDown', 'ArrowUp', 'Home', 'End', 'PageDown', 'PageUp'].includes(e.key)) {
      e.preventDefault();
      moveSearchCursor(side, e.key);
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      focusCard(index.ids[list.order[active]!] ?? null);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      inputRef.current?.focus();
    }
  };

  const rows = list.order.slice(0, shown);
  return (
    <div className="min-w-0">
      <h3 className="mb-1 text-sm font-medium text-slate-800" id={`search-${side}-title`}>
        {title}
      </h3>
      <div
        ref={ref}
        role="listbox"
        tabIndex={0}
        aria-labelledby={`search-${side}-title`}
        aria-activedescendant={rows.length ? optionId(side, active) : undefined}
        onKeyDown={onKeyDown}
        className="group max-h-96 overflow-y-auto rounded border border-slate-200 focus-visible:ring-2 focus-visible:ring-sky-500 focus-visible:outline-none"
        data-testid={`search-list-${side}`}
        data-order={JSON.stringify(list.order.map((i) => index.names[i]))}
      >
        {rows.map((imgIdx, pos) => {
          const score = list.scores[imgIdx]!;
          const otherRank = other?.rank[imgIdx];
          return (
            <div
              key={index.ids[imgIdx]}
              id={optionId(side, pos)}
              role="option"
              aria-selected={pos === active}
              onClick={() => {
                setSearchCursor(side, pos);
                focusCard(index.ids[imgIdx]!);
              }}
              className={`flex cursor-pointer items-center gap-2 border-b border-slate-100 px-2 py-1 text-xs last:border-b-0 ${pos === active ? 'bg-slate-100 group-focus:bg-sky-100 group-focus:outline-2 group-focus:-outline-offset-2 group-focus:outline-sky-500' : 'hover:bg-slate-50'}`}
              data-testid="search-result"
              data-name={index.names[imgIdx]}
              data-score={String(score)}
            >
              <span className="w-7 shrink-0 text-right font-mono text-slate-600">#{pos + 1}</span>
              {index.urls[imgIdx] ? (
                <img
                  src={index.urls[imgIdx]!}
                  alt=""
                  loading="lazy"
                  decoding="async"
                  className="h-10 w-10 shrink-0 rounded object-cover"
                />
              ) : (
                <span className="h-10 w-10 shrink-0 rounded bg-slate-100" aria-hidden="true" />
              )}
              <span className="min-w-0 flex-1 truncate" title={index.names[imgIdx]}>
                {index.names[imgIdx]}
              </span>
              <span className="shrink-0 font-mono">
                <span className="text-slate-500">cos </span>
                {score.toFixed(3)}
              </span>
              {otherRank !== undefined ? (
                <span className="w-20 shrink-0 text-right text-slate-600">
                  {otherTitle} #{otherRank}
                </span>
              ) : null}
            </div>
          );
        })}
      </div>
    </div>
  );
}

/** Gallery search: the box, TokLIP's ranking and the teacher's beside it (state: src/store/search.ts). */
export function GallerySearch() {
  const query = useSearch((s) => s.query);
  const pending = useSearch((s) => s.pending);
  const error = useSearch((s) => s.error);
  const results = useSearch((s) => s.results);
  const index = useSearch((s) => s.index);
  const embedded = useSearch((s) => s.embedded);
  const shown = useSearch((s) => s.shown);
  const active = useSearch((s) => s.active);
  const message = useSearch((s) => s.message);
  const dropped = useSearch((s) => s.dropped);
  const ready = useStore((s) => s.model.status === 'ready');
  const inputRef = useRef<HTMLInputElement>(null);

  const n = index?.tok.n ?? 0;
  const agreement = results?.agreement;
  return (
    <section
      aria-labelledby="search-title"
      className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm"
      data-testid="gallery-search"
      data-state={pending ? 'pending' : 'idle'}
      data-query={embedded?.text ?? ''}
      data-count={results ? String(n) : undefined}
      data-dropped={String(dropped)}
      data-results={
        results && index
          ? JSON.stringify(
              index.names.map((name, i) => ({
                name,
                tok: results.tok.scores[i],
                teacher: results.teacher?.scores[i] ?? null,
              })),
            )
          : undefined
      }
      data-agreement={agreement ? JSON.stringify(agreement) : undefined}
    >
      <h2 id="search-title" className="font-semibold">
        Gallery search
      </h2>
      <p id="search-help" className="mb-2 text-xs text-slate-600">
        Ranks every processed image by the cosine between your text and the image’s TokLIP embedding (computed
        from its tokens), with the teacher’s ranking (computed from the original pixels) beside it. Only the
        text encoder runs as you type; the image embeddings are kept from processing.
      </p>
      <div className="flex flex-wrap items-center gap-2">
        <label htmlFor="search-input" className="text-sm">
          Search the loaded images
        </label>
        <input
          ref={inputRef}
          id="search-input"
          type="search"
          value={query}
          disabled={!ready}
          onChange={(e) => setSearchQuery(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'ArrowDown' && results) {
              e.preventDefault();
              document.querySelector<HTMLElement>('[data-testid="search-list-tok"]')?.focus();
            }
          }}
          placeholder="e.g. a propeller hat"
          aria-describedby="search-help search-status"
          className="min-w-[16rem] flex-1 rounded border border-slate-300 px-2 py-1 text-sm focus-visible:ring-2 focus-visible:ring-sky-500 focus-visible:outline-none"
          data-testid="search-input"
        />
        <span className="text-xs text-slate-600" aria-hidden="true">
          {pending ? 'embedding the text…' : embedded ? `text encoder ${formatMs(embedded.textMs)}` : ''}
        </span>
      </div>
      <p
        id="search-status"
        role="status"
        aria-live="polite"
        className="mt-2 text-xs text-slate-700"
        data-testid="search-status"
      >
        {message}
      </p>
      {error ? (
        <p role="alert" className="mt-2 rounded bg-red-50 p-2 text-xs text-red-800">
          The query could not be embedded: {error}
        </p>
      ) : null}
      {results && index ? (
        <>
          {agreement ? (
            <p className="mt-2 text-xs text-slate-700" data-testid="search-agreement">
              <HelpTip id="search-agreement-help" label="Rank agreement">
                How alike the two rankings are. Spearman’s ρ compares the full orders (1: identical, 0:
                unrelated, −1: reversed); top-{agreement.k} overlap counts the images both put in their first{' '}
                {agreement.k}.
              </HelpTip>{' '}
              (TokLIP vs teacher): Spearman ρ ={' '}
              <span className="font-mono">
                {Number.isNaN(agreement.spearman) ? 'n/a' : agreement.spearman.toFixed(2)}
              </span>{' '}
              over {n} image{n === 1 ? '' : 's'} · top-{agreement.k} overlap{' '}
              <span className="font-mono">
                {agreement.overlap}/{agreement.k}
              </span>
            </p>
          ) : null}
          <div className={`mt-2 grid gap-4 ${results.teacher ? 'md:grid-cols-2' : ''}`}>
            <ResultList
              side="tok"
              title="TokLIP — from the tokens"
              otherTitle="teacher"
              list={results.tok}
              other={results.teacher}
              index={index}
              shown={shown}
              active={active.tok}
              inputRef={inputRef}
            />
            {results.teacher ? (
              <ResultList
                side="teacher"
                title="Teacher — from the original pixels"
                otherTitle="TokLIP"
                list={results.teacher}
                other={results.tok}
                index={index}
                shown={shown}
                active={active.teacher}
                inputRef={inputRef}
              />
            ) : null}
          </div>
          {shown < n ? (
            <button type="button" className="btn mt-2 text-xs" onClick={showMoreResults}>
              Show {Math.min(SEARCH_PAGE, n - shown)} more (of {n})
            </button>
          ) : null}
        </>
      ) : null}
    </section>
  );
}
