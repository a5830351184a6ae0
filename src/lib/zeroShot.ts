/**
 * Zero-shot classification maths (pure): class embeddings averaged over prompt templates, per-image top-k with a
 * softmax over the labels next to SigLIP's per-pair sigmoid, and accuracy / confusion matrix of a labelled folder.
 */
import { matchProbability, softmax } from './similarity';

/** `template` with its `{}` replaced by `label` (a template without `{}` is used as written). */
export function fillTemplate(template: string, label: string): string {
  return template.includes('{}') ? template.replace('{}', label) : template;
}

/** Prompts class-major: [class0·t0, class0·t1, …, class1·t0, …]; a row of the text encoder each. */
export function expandPrompts(labels: readonly string[], templates: readonly string[]): string[] {
  if (templates.length === 0) throw new RangeError('at least one template is needed');
  return labels.flatMap((l) => templates.map((t) => fillTemplate(t, l)));
}

function normaliseInto(v: Float32Array | number[], out: Float32Array, offset: number, dim: number): void {
  let s = 0;
  for (let k = 0; k < dim; k++) s += v[k]! * v[k]!;
  const n = Math.sqrt(s);
  for (let k = 0; k < dim; k++) out[offset + k] = n === 0 ? 0 : v[k]! / n;
}

/**
 * CLIP-style template averaging: the mean of the l2-normalised embeddings of one class's templates, renormalised
 * to unit length (the mean of unit vectors is shorter than 1; the cosine needs unit length again).
 * `rows`: [nTemplates, dim] flat.
 */
export function averageTemplates(rows: Float32Array, dim: number): Float32Array {
  if (dim <= 0 || rows.length === 0 || rows.length % dim !== 0)
    throw new RangeError(`expected [n, ${dim}] rows, got ${rows.length} values`);
  const n = rows.length / dim;
  const mean = new Array<number>(dim).fill(0);
  const unit = new Float32Array(dim);
  for (let t = 0; t < n; t++) {
    normaliseInto(rows.subarray(t * dim, (t + 1) * dim), unit, 0, dim);
    for (let k = 0; k < dim; k++) mean[k]! += unit[k]! / n;
  }
  const out = new Float32Array(dim);
  normaliseInto(mean, out, 0, dim);
  return out;
}

/** Class embeddings [nClasses, dim] from class-major template rows [nClasses·nTemplates, dim]. */
export function classEmbeddings(rows: Float32Array, nTemplates: number, dim: number): Float32Array {
  const per = nTemplates * dim;
  if (nTemplates <= 0 || rows.length % per !== 0)
    throw new RangeError(`${rows.length} values are not whole classes of ${nTemplates}×${dim}`);
  const n = rows.length / per;
  const out = new Float32Array(n * dim);
  for (let c = 0; c < n; c++) out.set(averageTemplates(rows.subarray(c * per, (c + 1) * per), dim), c * dim);
  return out;
}

/** Cosines of one unit image embedding [dim] with every unit class embedding of [n, dim]. */
export function classCosines(image: ArrayLike<number>, classes: Float32Array, dim: number): number[] {
  if (image.length !== dim) throw new RangeError(`image embedding has ${image.length} values, not ${dim}`);
  const n = Math.floor(classes.length / dim);
  const out = new Array<number>(n);
  for (let c = 0; c < n; c++) {
    let s = 0;
    for (let k = 0; k < dim; k++) s += image[k]! * classes[c * dim + k]!;
    out[c] = s;
  }
  return out;
}

/** Indices of the k largest scores, best first; ties keep the lower index first. */
export function topK(scores: readonly number[], k: number): number[] {
  const idx = scores.map((_, i) => i);
  idx.sort((a, b) => scores[b]! - scores[a]! || a - b);
  return idx.slice(0, Math.max(0, k));
}

export interface Prediction {
  /** class index */
  index: number;
  cos: number;
  /** softmax over all the labels of logit_scale·cos: the labels compete, the column sums to 1 over every label */
  softmax: number;
  /** SigLIP's sigmoid(logit_scale·cos + logit_bias): this pair alone, independent of the other labels */
  sigmoid: number;
}

/** Top-k labels of one image: softmax over every label (temperature 1/logit_scale) and the pair's sigmoid. */
export function predict(
  cosines: readonly number[],
  logitScale: number,
  logitBias: number,
  k = 5,
): Prediction[] {
  const p = softmax(
    cosines.map((c) => c * logitScale),
    1,
  );
  return topK(cosines, k).map((index) => ({
    index,
    cos: cosines[index]!,
    softmax: p[index]!,
    sigmoid: matchProbability(cosines[index]!, logitScale, logitBias),
  }));
}

/** Share of items whose predicted class is the true one; NaN for no items. */
export function accuracy(truth: readonly number[], predicted: readonly number[]): number {
  if (truth.length !== predicted.length) throw new RangeError('truth and predictions differ in length');
  if (truth.length === 0) return NaN;
  let ok = 0;
  for (let i = 0; i < truth.length; i++) if (truth[i] === predicted[i]) ok++;
  return ok / truth.length;
}

/** counts[true class][predicted class] for n classes. */
export function confusionMatrix(
  truth: readonly number[],
  predicted: readonly number[],
  n: number,
): number[][] {
  if (truth.length !== predicted.length) throw new RangeError('truth and predictions differ in length');
  const m = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i]!;
    const p = predicted[i]!;
    if (t < 0 || t >= n || p < 0 || p >= n) throw new RangeError(`class out of range at ${i}: ${t} → ${p}`);
    m[t]![p]!++;
  }
  return m;
}

/** A user's label list: one label per line, trimmed, blank lines and repeats dropped, order kept. */
export function parseLabels(text: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (t && !seen.has(t)) {
      seen.add(t);
      out.push(t);
    }
  }
  return out;
}

const IMAGE_EXT = /\.(jpe?g|png|gif|webp|bmp|avif)$/i;

export interface LabelledPath {
  path: string;
  label: string;
}

/**
 * The labelled images of a dropped or picked folder, from their relative paths ("root/label/…/file.jpg"): the label
 * is the sub-folder right under the common root (or the first folder when the paths share none, as when several
 * label folders are dropped at once). Files directly in the root and non-images are left out. Labels sorted.
 */
export function labelledPaths(paths: readonly string[]): { items: LabelledPath[]; labels: string[] } {
  const parts = paths.map((p) => p.split('/').filter((s) => s.length > 0));
  const first = parts[0]?.[0];
  const sharedRoot =
    first !== undefined &&
    parts.every((p) => p.length >= 2 && p[0] === first) &&
    parts.some((p) => p.length >= 3);
  const depth = sharedRoot ? 1 : 0;
  const items: LabelledPath[] = [];
  parts.forEach((p, i) => {
    const file = p[p.length - 1] ?? '';
    if (p.length < depth + 2 || !IMAGE_EXT.test(file) || file.startsWith('.')) return;
    items.push({ path: paths[i]!, label: p[depth]! });
  });
  const labels = [...new Set(items.map((x) => x.label))].sort((a, b) => a.localeCompare(b));
  return { items, labels };
}

/** Rough text-encoder time for `rows` prompts at `msPerRow`, for choosing a template set by cost. */
export function costText(rows: number, msPerRow: number): string {
  const s = (rows * msPerRow) / 1000;
  return s < 60 ? `about ${Math.max(1, Math.round(s))} s` : `about ${Math.round(s / 60)} min`;
}

/** public/labelsets/*.json as written by models/toklip/labelsets.py. */
export interface Labelset {
  id: string;
  name: string;
  classes: string[];
  /** template sets by name, each template with one `{}` */
  templates: Record<string, string[]>;
  source: { package: string; version: string; license: string; url: string };
  attribution: string;
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

/** Checks a label-set JSON; throws an Error naming the first problem. */
export function parseLabelset(json: unknown): Labelset {
  const o = json as Partial<Record<keyof Labelset | 'schema', unknown>> | null;
  if (!o || typeof o !== 'object' || o.schema !== 'toklip-studio/labelset')
    throw new Error('not a toklip-studio/labelset JSON');
  if (typeof o.id !== 'string' || typeof o.name !== 'string')
    throw new Error('label set: id and name are required');
  if (!isStrings(o.classes) || o.classes.length === 0) throw new Error('label set: classes must be strings');
  const t = o.templates as Record<string, unknown> | undefined;
  if (!t || typeof t !== 'object' || Object.keys(t).length === 0) throw new Error('label set: no templates');
  for (const [k, v] of Object.entries(t))
    if (!isStrings(v) || v.length === 0 || v.some((s) => s.split('{}').length !== 2))
      throw new Error(`label set: templates.${k} must be strings with one {} each`);
  const s = o.source as Record<string, unknown> | undefined;
  if (!s || typeof s.package !== 'string' || typeof s.version !== 'string' || typeof s.license !== 'string')
    throw new Error('label set: source package, version and licence are required');
  if (typeof o.attribution !== 'string' || !o.attribution)
    throw new Error('label set: attribution is required');
  return {
    id: o.id,
    name: o.name,
    classes: o.classes,
    templates: t as Record<string, string[]>,
    source: { package: s.package, version: s.version, license: s.license, url: String(s.url ?? '') },
    attribution: o.attribution,
  };
}
