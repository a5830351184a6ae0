/**
 * Gallery search state (its own zustand store): the query, its text embedding, and every processed image's
 * TokLIP and teacher embeddings packed once into matrices. A keystroke only runs the text tower (debounced);
 * ranking is src/lib/ranking.ts over the packed matrices, O(n·dim). Queries supersede each other: the worker
 * skips a queued older query (`supersede` slot) and an older answer that still arrives is ignored here.
 */
import { create } from 'zustand';
import { packRows, rankGallery, type EmbeddingMatrix, type GalleryRanking } from '../lib/ranking';
import { client } from './actions';
import { useStore, type ImageItem } from './store';

/** Typing pauses shorter than this do not start the text tower. */
export const SEARCH_DEBOUNCE_MS = 150;
/** Rows rendered per list at first, and added by "show more" (the rest stay out of the DOM). */
export const SEARCH_PAGE = 10;
/** k of the top-k overlap between the two rankings. */
export const AGREEMENT_K = 5;

/** The processed images, in gallery order, with their embeddings packed (rebuilt when an embedding changes). */
export interface GalleryIndex {
  ids: string[];
  names: string[];
  urls: (string | null)[];
  tok: EmbeddingMatrix;
  /** null unless every indexed image has a teacher embedding */
  teacher: EmbeddingMatrix | null;
  /** the per-image arrays the matrices were packed from (identity check: repack only when one changes) */
  sources: { tok: Float32Array; teacher?: Float32Array }[];
}

export type SearchSide = 'tok' | 'teacher';

export interface SearchState {
  /** what is in the box */
  query: string;
  /** the newest query whose embedding arrived, with it */
  embedded: { text: string; vector: Float32Array; modelId: string; textMs: number } | null;
  /** a query is waiting for its debounce or for the text tower */
  pending: boolean;
  error?: string;
  /** queries whose text-tower run was skipped or whose answer came after a newer query's */
  dropped: number;
  index: GalleryIndex | null;
  /** rankings of `index` for `embedded` (null: no query, no images, or still embedding the first query) */
  results: GalleryRanking | null;
  /** rows rendered per list */
  shown: number;
  /** keyboard cursor per list (position in that list's order) */
  active: Record<SearchSide, number>;
  /** for the panel's live region */
  message: string;
}

export const useSearch = create<SearchState>()(() => ({
  query: '',
  embedded: null,
  pending: false,
  dropped: 0,
  index: null,
  results: null,
  shown: SEARCH_PAGE,
  active: { tok: 0, teacher: 0 },
  message: '',
}));

const get = useSearch.getState;
const set = useSearch.setState;

/** Images that count: processed by the model in use (status done) with an embedding of its width. */
function indexable(images: readonly ImageItem[], dim: number): ImageItem[] {
  return images.filter((im) => im.status === 'done' && im.embedding?.length === dim);
}

/** Same images with the same embedding arrays as `index`: nothing to repack. */
function sameSources(index: GalleryIndex | null, items: readonly ImageItem[]): boolean {
  if (!index || index.ids.length !== items.length) return false;
  return items.every(
    (im, i) =>
      index.ids[i] === im.id &&
      index.sources[i]!.tok === im.embedding &&
      index.sources[i]!.teacher === im.teacherEmbedding,
  );
}

/** Packs the processed images' embeddings (exported for tests; the store calls it on every image change). */
export function buildIndex(images: readonly ImageItem[], dim: number): GalleryIndex {
  const items = indexable(images, dim);
  const haveTeacher = items.length > 0 && items.every((im) => im.teacherEmbedding?.length === dim);
  return {
    ids: items.map((im) => im.id),
    names: items.map((im) => im.name),
    urls: items.map((im) => im.url),
    tok: packRows(
      items.map((im) => im.embedding!),
      dim,
    ),
    teacher: haveTeacher
      ? packRows(
          items.map((im) => im.teacherEmbedding!),
          dim,
        )
      : null,
    sources: items.map((im) => ({ tok: im.embedding!, teacher: im.teacherEmbedding })),
  };
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Re-ranks the index for the embedded query (pure maths, no worker) and says what changed. */
function rerank(announce: boolean): void {
  const { index, embedded } = get();
  const manifest = useStore.getState().model.manifest;
  if (
    !index ||
    !embedded ||
    !manifest ||
    embedded.modelId !== manifest.id ||
    index.tok.dim !== embedded.vector.length
  ) {
    set({ results: null });
    return;
  }
  const results = index.tok.n ? rankGallery(index.tok, index.teacher, embedded.vector, AGREEMENT_K) : null;
  const n = index.tok.n;
  let message = get().message;
  if (announce) {
    if (!results) message = `No processed images to rank for “${embedded.text}”.`;
    else {
      const best = results.tok.order[0]!;
      message =
        `${plural(n, 'image')} ranked for “${embedded.text}”. Best from the tokens: ${index.names[best]} ` +
        `(cosine ${results.tok.scores[best]!.toFixed(3)})` +
        (results.teacher
          ? `; best from the pixels (teacher): ${index.names[results.teacher.order[0]!]}.`
          : '.');
    }
  }
  set((s) => ({
    results,
    message,
    active: {
      tok: Math.min(s.active.tok, Math.max(0, n - 1)),
      teacher: Math.min(s.active.teacher, Math.max(0, n - 1)),
    },
  }));
}

function refreshIndex(): void {
  const { model, images } = useStore.getState();
  const dim = model.manifest?.embed_dim;
  if (!dim) {
    if (get().index) set({ index: null, results: null });
    return;
  }
  const items = indexable(images, dim);
  if (sameSources(get().index, items)) return;
  set({ index: buildIndex(images, dim) });
  rerank(false);
}

let timer: ReturnType<typeof setTimeout> | undefined;
let seq = 0;

/** The box changed: embed the new text after a pause (an empty box clears the results at once). */
export function setSearchQuery(text: string): void {
  clearTimeout(timer);
  set({ query: text, error: undefined });
  if (!text.trim()) {
    seq++; // any query still in flight is now stale
    set({ embedded: null, results: null, pending: false, message: 'Search cleared.' });
    return;
  }
  set({ pending: true });
  timer = setTimeout(() => void runQuery(), SEARCH_DEBOUNCE_MS);
}

async function runQuery(): Promise<void> {
  const text = get().query.trim();
  const { model } = useStore.getState();
  if (!text || model.status !== 'ready' || !model.manifest) {
    set({ pending: false });
    return;
  }
  const mine = ++seq;
  const modelId = model.manifest.id;
  try {
    const r = await client.request<'embedText'>({
      kind: 'embedText',
      prompts: [text],
      supersede: { slot: 'gallery-search', seq: mine },
    });
    if (r.superseded || mine !== seq) {
      set((s) => ({ dropped: s.dropped + 1 }));
      return;
    }
    set({
      embedded: { text, vector: new Float32Array(r.embeddings), modelId, textMs: r.timing.runMs },
      pending: false,
      shown: SEARCH_PAGE,
      active: { tok: 0, teacher: 0 },
    });
    rerank(true);
  } catch (e) {
    if (mine !== seq) return;
    set({ pending: false, error: e instanceof Error ? e.message : String(e) });
  }
}

export function showMoreResults(): void {
  set((s) => ({ shown: s.shown + SEARCH_PAGE }));
}

/** Keyboard cursor of one list: ArrowUp/Down/Home/End/PageUp/PageDown; returns the image id under it. */
export function moveSearchCursor(side: SearchSide, key: string): string | null {
  const { results, index, shown, active } = get();
  const list = side === 'tok' ? results?.tok : results?.teacher;
  if (!list || !index) return null;
  const last = list.order.length - 1;
  const cur = active[side];
  const next =
    key === 'ArrowDown'
      ? Math.min(last, cur + 1)
      : key === 'ArrowUp'
        ? Math.max(0, cur - 1)
        : key === 'Home'
          ? 0
          : key === 'End'
            ? last
            : key === 'PageDown'
              ? Math.min(last, cur + SEARCH_PAGE)
              : key === 'PageUp'
                ? Math.max(0, cur - SEARCH_PAGE)
                : cur;
  // moving past the rendered rows renders more, so the cursor is always on a row in the DOM
  set((s) => ({
    active: { ...s.active, [side]: next },
    shown: next >= shown ? Math.ceil((next + 1) / SEARCH_PAGE) * SEARCH_PAGE : s.shown,
  }));
  return index.ids[list.order[next]!] ?? null;
}

export function setSearchCursor(side: SearchSide, pos: number): void {
  set((s) => ({ active: { ...s.active, [side]: pos } }));
}

// Keep the index in step with the images, and re-embed the query for a new model (its text tower changed).
let lastManifest = useStore.getState().model.manifest;
useStore.subscribe((s, prev) => {
  if (s.images !== prev.images || s.model.manifest !== prev.model.manifest) refreshIndex();
  if (s.model.manifest !== lastManifest && s.model.status === 'ready') {
    lastManifest = s.model.manifest;
    if (get().query.trim()) {
      set({ embedded: null, results: null });
      setSearchQuery(get().query);
    }
  }
});
