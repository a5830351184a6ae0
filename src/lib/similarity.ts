/** Similarity maths from docs/CONTRACT.md: cos = dot(a, b) of unit vectors; p = sigmoid(scale·cos + bias). */

export type Vec = ArrayLike<number>;

export function dot(a: Vec, b: Vec): number {
  if (a.length !== b.length) throw new RangeError(`vector lengths differ: ${a.length} vs ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export function norm(a: Vec): number {
  return Math.sqrt(dot(a, a));
}

/** Cosine similarity; for the contract's l2-normalised embeddings this equals the dot product. */
export function cosine(a: Vec, b: Vec): number {
  const d = norm(a) * norm(b);
  return d === 0 ? 0 : dot(a, b) / d;
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** Probability that the pair matches: sigmoid(logit_scale · cos + logit_bias). */
export function matchProbability(cos: number, logitScale: number, logitBias: number): number {
  return sigmoid(logitScale * cos + logitBias);
}

/** rows × cols matrix of cosines. */
export function cosineMatrix(rows: readonly Vec[], cols: readonly Vec[]): number[][] {
  return rows.map((r) => cols.map((c) => cosine(r, c)));
}

/** Indices sorted by score, best first (stable for ties: lower index first). */
export function ranking(scores: readonly number[]): number[] {
  return scores
    .map((s, i) => [s, i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .map(([, i]) => i);
}

/** Index of the largest score, -1 for an empty list. */
export function argmax(scores: readonly number[]): number {
  let best = -1;
  for (let i = 0; i < scores.length; i++) if (best < 0 || scores[i]! > scores[best]!) best = i;
  return best;
}

/** Splits a flat [n, dim] buffer into n subarray views. */
export function rowsOf(flat: Float32Array, dim: number): Float32Array[] {
  const n = Math.floor(flat.length / dim);
  return Array.from({ length: n }, (_, i) => flat.subarray(i * dim, (i + 1) * dim));
}

/**
 * softmax(logits / temperature), stable (the largest logit is subtracted first). CLIP-style scores use a
 * temperature of 1/logit_scale, i.e. softmax(logit_scale · cos). Empty in, empty out.
 */
export function softmax(logits: readonly number[], temperature = 1): number[] {
  if (!(temperature > 0)) throw new RangeError(`temperature must be > 0, got ${temperature}`);
  if (logits.length === 0) return [];
  const scaled = logits.map((x) => x / temperature);
  const max = Math.max(...scaled);
  const exps = scaled.map((x) => Math.exp(x - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}
