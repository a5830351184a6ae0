/**
 * Gallery search maths (pure): score every image against one query vector, take the best k, and measure how
 * far two rankings of the same images (TokLIP from tokens, the teacher from pixels) agree.
 *
 * Embeddings are packed row-major into one Float32Array ([n, dim]) so that a keystroke costs one pass over
 * n·dim floats and no allocation per image.
 */

/** Row-major [n, dim] matrix of embeddings, one row per image. */
export interface EmbeddingMatrix {
  data: Float32Array;
  n: number;
  dim: number;
}

/** Packs rows of equal length into one matrix; throws on a row of another length. */
export function packRows(rows: readonly ArrayLike<number>[], dim: number): EmbeddingMatrix {
  const data = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => {
    if (r.length !== dim) throw new RangeError(`row ${i} has ${r.length} values, expected ${dim}`);
    data.set(r, i * dim);
  });
  return { data, n: rows.length, dim };
}

/**
 * cos[i] = row_i · query. The contract's embeddings are l2-normalised, so the dot product is the cosine (the
 * same figure the prompt table shows). O(n·dim).
 */
export function scoreRows(m: EmbeddingMatrix, query: ArrayLike<number>): Float32Array {
  if (query.length !== m.dim) throw new RangeError(`query has ${query.length} values, expected ${m.dim}`);
  const out = new Float32Array(m.n);
  const { data, dim } = m;
  for (let i = 0; i < m.n; i++) {
    let s = 0;
    const off = i * dim;
    for (let k = 0; k < dim; k++) s += data[off + k]! * query[k]!;
    out[i] = s;
  }
  return out;
}

/** a before b: higher score first, ties by lower index (so every ranking here is deterministic). */
const better = (scores: ArrayLike<number>, a: number, b: number) =>
  scores[a]! > scores[b]! || (scores[a]! === scores[b]! && a < b);

/**
 * Indices of the k best scores, best first (ties: lower index first). Keeps a sorted buffer of at most k, so a
 * small k over many images does not sort them all. NaN scores rank last.
 */
export function topK(scores: ArrayLike<number>, k: number): number[] {
  const n = scores.length;
  const kk = Math.max(0, Math.min(Math.floor(k), n));
  if (kk === 0) return [];
  const key = (i: number) => (Number.isNaN(scores[i]!) ? -Infinity : scores[i]!);
  const clean = Array.from({ length: n }, (_, i) => key(i));
  const best: number[] = [];
  for (let i = 0; i < n; i++) {
    if (best.length === kk && !better(clean, i, best[kk - 1]!)) continue;
    // binary search for the first position whose entry i beats
    let lo = 0;
    let hi = best.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (better(clean, best[mid]!, i)) lo = mid + 1;
      else hi = mid;
    }
    best.splice(lo, 0, i);
    if (best.length > kk) best.pop();
  }
  return best;
}

/** The full ranking (every index, best first; same order as topK with k = n), O(n log n). */
export function rankAll(scores: ArrayLike<number>): number[] {
  const key = (i: number) => (Number.isNaN(scores[i]!) ? -Infinity : scores[i]!);
  return Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => key(b) - key(a) || a - b);
}

/** rank[i] = 1-based position of index i in `order` (a permutation of 0…n-1). */
export function positions(order: readonly number[]): Int32Array {
  const pos = new Int32Array(order.length);
  order.forEach((idx, p) => (pos[idx] = p + 1));
  return pos;
}

/** 1-based ranks with ties given their average rank (the convention Spearman's ρ needs). */
export function averageRanks(scores: ArrayLike<number>): Float64Array {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]! || a - b);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const avg = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) ranks[order[t]!] = avg;
    i = j + 1;
  }
  return ranks;
}

/**
 * Spearman's rank correlation of two score lists over the same items: Pearson's r of their average ranks
 * (exact with ties). NaN when fewer than 2 items or when either list is constant.
 */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`lengths differ: ${a.length} vs ${b.length}`);
  const n = a.length;
  if (n < 2) return NaN;
  const ra = averageRanks(a);
  const rb = averageRanks(b);
  const mean = (n + 1) / 2;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = ra[i]! - mean;
    const db = rb[i]! - mean;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa === 0 || sbb === 0 ? NaN : sab / Math.sqrt(saa * sbb);
}

/** How many of the first k of `a` are also among the first k of `b` (k is capped at the lengths). */
export function overlapAtK(a: readonly number[], b: readonly number[], k: number): number {
  const kk = Math.min(k, a.length, b.length);
  const top = new Set(b.slice(0, kk));
  let hits = 0;
  for (let i = 0; i < kk; i++) if (top.has(a[i]!)) hits++;
  return hits;
}

export interface SideRanking {
  /** cosine per image, in gallery order */
  scores: Float32Array;
  /** every image index, best first */
  order: number[];
  /** 1-based rank per image */
  rank: Int32Array;
}

export interface GalleryRanking {
  tok: SideRanking;
  /** absent when the model has no teacher (or an image lacks a teacher embedding) */
  teacher: SideRanking | null;
  /** rank agreement between the two sides (null without a teacher) */
  agreement: { spearman: number; k: number; overlap: number } | null;
}

function side(m: EmbeddingMatrix, query: ArrayLike<number>): SideRanking {
  const scores = scoreRows(m, query);
  const order = rankAll(scores);
  return { scores, order, rank: positions(order) };
}

/**
 * Both rankings of the gallery for one query vector, and their agreement: Spearman's ρ over all images and the
 * overlap of the two top-k lists (k = min(agreementK, n)). O(n·dim + n log n).
 */
export function rankGallery(
  tok: EmbeddingMatrix,
  teacher: EmbeddingMatrix | null,
  query: ArrayLike<number>,
  agreementK = 5,
): GalleryRanking {
  const t = side(tok, query);
  if (!teacher || teacher.n !== tok.n) return { tok: t, teacher: null, agreement: null };
  const te = side(teacher, query);
  const k = Math.min(agreementK, tok.n);
  return {
    tok: t,
    teacher: te,
    agreement: { spearman: spearman(t.scores, te.scores), k, overlap: overlapAtK(t.order, te.order, k) },
  };
}
