import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { validateManifest } from '../lib/manifest';
import { rankGallery } from '../lib/ranking';
import { rng, sampleManifest } from '../lib/testutil';
import type { EmbedTextRequest, EmbedTextResult } from '../worker/protocol';

// The search talks to the worker through `client`; a fake whose answers the test releases by hand, in any order.
interface Call {
  body: Omit<EmbedTextRequest, 'requestId'>;
  resolve: (r: EmbedTextResult) => void;
}
const calls: Call[] = [];
vi.mock('./actions', () => ({
  client: {
    request: (body: Omit<EmbedTextRequest, 'requestId'>) =>
      new Promise((resolve) => calls.push({ body, resolve })),
  },
}));

const { useStore } = await import('./store');
const search = await import('./search');
const { useSearch, setSearchQuery, moveSearchCursor, buildIndex, SEARCH_DEBOUNCE_MS, SEARCH_PAGE } = search;

const manifest = validateManifest(sampleManifest());
const E = manifest.embed_dim;
const r = rng(42);
const unit = () => {
  const v = Float32Array.from({ length: E }, () => r() * 2 - 1);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};
/** the text vector the fake worker answers for a query: fixed per text, so a result names its query */
const vectors = new Map<string, Float32Array>();
const vectorOf = (t: string) => vectors.get(t) ?? vectors.set(t, unit()).get(t)!;

function answer(call: Call, superseded = false): void {
  const v = vectorOf(call.body.prompts[0]!);
  call.resolve({
    embeddings: superseded ? new ArrayBuffer(0) : v.slice().buffer,
    ids: new ArrayBuffer(0),
    dim: E,
    timing: { runMs: 2, totalMs: 3, sessionMs: 0 },
    ...(superseded ? { superseded: true as const } : {}),
  });
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

function image(i: number, patch: Record<string, unknown> = {}) {
  return {
    id: `img${i}`,
    name: `${i}.png`,
    bytes: 1,
    url: null,
    status: 'done' as const,
    timings: {},
    embedding: unit(),
    teacherEmbedding: unit(),
    ...patch,
  };
}

beforeEach(() => {
  vi.useFakeTimers();
  calls.length = 0;
  useStore.setState({
    model: { id: manifest.id, status: 'ready', manifest, files: {} },
    images: Array.from({ length: 25 }, (_, i) => image(i)),
  });
  setSearchQuery('');
  useSearch.setState({ dropped: 0, message: '' });
});
afterEach(() => vi.useRealTimers());

describe('gallery index', () => {
  it('packs only processed images with embeddings of the model’s width, in gallery order', () => {
    const images = [
      image(0),
      image(1, { status: 'embedding' }),
      image(2, { embedding: new Float32Array(E + 1) }),
      image(3),
    ];
    const idx = buildIndex(images, E);
    expect(idx.ids).toEqual(['img0', 'img3']);
    expect(Array.from(idx.tok.data.subarray(E, 2 * E))).toEqual(Array.from(images[3]!.embedding));
    expect(idx.teacher?.n).toBe(2);
    expect(buildIndex([image(0), image(1, { teacherEmbedding: undefined })], E).teacher).toBeNull();
  });

  it('follows the images: a new embedding is indexed without any worker call', () => {
    expect(useSearch.getState().index?.tok.n).toBe(25);
    useStore.setState((s) => ({ images: [...s.images, image(99)] }));
    expect(useSearch.getState().index?.ids.at(-1)).toBe('img99');
    expect(calls).toHaveLength(0);
  });
});

describe('typing', () => {
  it('runs the text tower once per pause, for the newest text', async () => {
    setSearchQuery('a');
    vi.advanceTimersByTime(SEARCH_DEBOUNCE_MS / 2);
    setSearchQuery('a h');
    vi.advanceTimersByTime(SEARCH_DEBOUNCE_MS / 2);
    setSearchQuery('a hat');
    expect(calls).toHaveLength(0);
    expect(useSearch.getState().pending).toBe(true);
    vi.advanceTimersByTime(SEARCH_DEBOUNCE_MS);
    expect(calls.map((c) => c.body.prompts)).toEqual([['a hat']]);
    expect(calls[0]!.body.supersede?.slot).toBe('gallery-search');
    answer(calls[0]!);
    await flush();
    const s = useSearch.getState();
    expect(s.pending).toBe(false);
    expect(s.embedded?.text).toBe('a hat');
    // the ranking is the pure one over the images' own embeddings
    const images = useStore.getState().images;
    const want = rankGallery(s.index!.tok, s.index!.teacher, vectorOf('a hat'), search.AGREEMENT_K);
    expect(s.results!.tok.order).toEqual(want.tok.order);
    expect(s.results!.teacher!.order).toEqual(want.teacher!.order);
    expect(s.message).toMatch(/^25 images ranked for “a hat”\. Best from the tokens: /);
    expect(s.message).toContain(images[want.tok.order[0]!]!.name);
  });

  it('drops an older query’s answer that arrives after a newer query was sent', async () => {
    setSearchQuery('a cat');
    vi.advanceTimersByTime(SEARCH_DEBOUNCE_MS);
    setSearchQuery('a dog');
    vi.advanceTimersByTime(SEARCH_DEBOUNCE_MS);
    expect(calls).toHaveLength(2);
    const [cat, dog] = calls as [Call, Call];
    expect(dog.body.supersede!.seq).toBeGreaterThan(cat.body.supersede!.seq);
    answer(dog);
    await flush();
    answer(cat); // late: must not replace the newer ranking
    await flush();
    const s = useSearch.getState();
    expect(s.embedded?.text).toBe('a dog');
    expect(s.dropped).toBe(1);
  });

  it('counts a query the worker skipped as dropped and keeps waiting for the newer one', async () => {
    setSearchQuery('a cat');
    vi.advanceTimersByTime(SEARCH_DEBOUNCE_MS);
    setSearchQuery('a dog');
    vi.advanceTimersByTime(SEARCH_DEBOUNCE_MS);
    answer(calls[0]!, true);
    await flush();
    expect(useSearch.getState().dropped).toBe(1);
    expect(useSearch.getState().embedded).toBeNull();
    answer(calls[1]!);
    await flush();
    expect(useSearch.getState().embedded?.text).toBe('a dog');
  });

  it('an empty box clears the results at once, and a late answer cannot bring them back', async () => {
    setSearchQuery('a cat');
    vi.advanceTimersByTime(SEARCH_DEBOUNCE_MS);
    setSearchQuery('');
    answer(calls[0]!);
    await flush();
    expect(useSearch.getState().results).toBeNull();
    expect(useSearch.getState().pending).toBe(false);
  });
});

describe('many images', () => {
  it('500 images: a query runs only the text tower and re-ranks the kept matrices, without repacking them', async () => {
    useStore.setState({ images: Array.from({ length: 500 }, (_, i) => image(i)) });
    const index = useSearch.getState().index!;
    expect(index.tok.n).toBe(500);
    for (const q of ['a hat', 'a marmot']) {
      setSearchQuery(q);
      vi.advanceTimersByTime(SEARCH_DEBOUNCE_MS);
      answer(calls.at(-1)!);
      await flush();
      expect(useSearch.getState().embedded?.text).toBe(q);
    }
    expect(calls.map((c) => c.body.kind)).toEqual(['embedText', 'embedText']);
    expect(useSearch.getState().index).toBe(index); // same packed matrices
    expect(useSearch.getState().results!.tok.order).toHaveLength(500);
    // a status change of one image (no new embedding) does not repack either
    useStore.getState().updateImage('img3', { notes: ['x'] });
    expect(useSearch.getState().index).toBe(index);
    expect(useSearch.getState().shown).toBe(SEARCH_PAGE); // rows rendered per list
  });
});

describe('keyboard cursor', () => {
  it('moves through the ranking and renders more rows when it passes the last one shown', async () => {
    setSearchQuery('a hat');
    vi.advanceTimersByTime(SEARCH_DEBOUNCE_MS);
    answer(calls[0]!);
    await flush();
    const { results, index } = useSearch.getState();
    expect(moveSearchCursor('tok', 'ArrowDown')).toBe(index!.ids[results!.tok.order[1]!]);
    expect(moveSearchCursor('tok', 'ArrowUp')).toBe(index!.ids[results!.tok.order[0]!]);
    expect(moveSearchCursor('tok', 'ArrowUp')).toBe(index!.ids[results!.tok.order[0]!]); // stays at the top
    expect(useSearch.getState().shown).toBe(SEARCH_PAGE);
    moveSearchCursor('tok', 'PageDown');
    expect(useSearch.getState().active.tok).toBe(SEARCH_PAGE);
    expect(useSearch.getState().shown).toBe(2 * SEARCH_PAGE);
    expect(moveSearchCursor('teacher', 'End')).toBe(index!.ids[results!.teacher!.order[24]!]);
    expect(useSearch.getState().shown).toBe(Math.ceil(25 / SEARCH_PAGE) * SEARCH_PAGE);
    expect(useSearch.getState().active).toEqual({ tok: SEARCH_PAGE, teacher: 24 });
  });
});
