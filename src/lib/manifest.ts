/**
 * Model manifest (docs/CONTRACT.md, schema version 1): types and a hand-written validator whose
 * messages name the offending field, e.g. `manifest.image.size: expected a positive integer, got "128"`.
 * Includes the optional fields of the official large models ("Large models" in the contract): a text
 * encoder fed token embeddings from a CPU-side table, external-data shards, variant and memory figures.
 */
import { TABLE_DTYPES, tableRowBytes, type TableDtype, type TableSpec } from './embeddingTable';
import { PASS_ORDERS, type PassOrder } from './pillowResample';
import type { PreprocessingMode } from './preprocess';

export const MANIFEST_SCHEMA = 'toklip-studio/model-manifest';
export const MANIFEST_SCHEMA_VERSION = 1;

export type FileRole =
  | 'vq_encoder'
  | 'vq_decoder'
  | 'semantic_encoder'
  | 'text_encoder'
  | 'teacher_image_encoder'
  | 'tokenizer'
  | 'codebook'
  | 'model_card'
  | 'metrics'
  | 'text_embedding';

export const GRAPH_ROLES = [
  'vq_encoder',
  'vq_decoder',
  'semantic_encoder',
  'text_encoder',
  'teacher_image_encoder',
] as const;
export type GraphRole = (typeof GRAPH_ROLES)[number];

export interface ManifestFile {
  role: FileRole | (string & {});
  path: string;
  dtype?: string;
  bytes: number;
  sha256: string;
  /** graph entries: ONNX external-data files, each also listed as role `<role>_data_<i>` */
  external_data?: string[];
  /** `<graph>_data_<i>` entries: the graph the shard belongs to */
  graph?: string;
}

/** `text.embedding_table`: rows of `row_bytes`, row `id` at byte `id * row_bytes`. */
export interface EmbeddingTableSpec extends TableSpec {
  role: 'text_embedding';
  path: string;
  bytes: number;
  layout?: string;
}

export interface TextManifest {
  context_length: number;
  pad_id: number;
  clean: 'canonicalize';
  /** "ids": int32 [B, L]; "embeddings": float32 [B, L, dim] rows of `embedding_table` */
  input: 'ids' | 'embeddings';
  /** absent: the Unicode rule */
  clean_rule?: 'big_vision';
  bos_id?: number | null;
  eos_id?: number | null;
  padding_side?: 'left' | 'right';
  embedding_table?: EmbeddingTableSpec;
}

export interface VariantSpec {
  dtype: string;
  compute?: string;
  /** execution providers the graphs are meant for ("webgpu", "wasm") */
  providers?: string[];
  /** WebGPU features the graphs need (e.g. "shader-f16") */
  requires?: string[];
}

export interface MemorySpec {
  /** all graph files and external data (not the table) */
  weights_bytes?: number;
  /** device memory to expect with every graph loaded */
  peak_estimate_bytes?: number;
  graph_weights_bytes?: Record<string, number>;
  largest_file_bytes?: number;
  largest_tensor_bytes?: number;
  /** CPU memory if the table is downloaded whole */
  text_embedding_table_bytes?: number;
  note?: string;
}

/** docs/CONTRACT.md "Preprocessing": what the optional descriptive fields must say if present, and how to show it. */
export const OFFICIAL_TOKLIP = {
  resize: 'shortest_side_then_center_crop',
  interpolation: 'pillow_bicubic',
  alpha: 'dropped',
  label: "TokLIP's own (torchvision): shortest side → S with Pillow bicubic, centre crop",
} as const;

/**
 * TokLIP-Tiny v1's mode (also what an absent field used to mean): named only so that such a manifest is refused
 * with advice rather than a bare "expected one of".
 */
const LEGACY_MODE = 'center_crop_triangle_float';

export interface ImageSpec {
  size: number;
  mean: [number, number, number];
  std: [number, number, number];
  preprocessing: PreprocessingMode;
  resize?: string;
  interpolation?: string;
  /** "dropped" (descriptive) */
  alpha?: string;
  /** which Pillow version's resize pass order to follow; absent: `pillow13` */
  resize_pass_order?: PassOrder;
}

export interface Manifest {
  schema: typeof MANIFEST_SCHEMA;
  schema_version: 1;
  id: string;
  display_name: string;
  description: string;
  image: ImageSpec;
  grid: { h: number; w: number };
  downsample: number;
  codebook: { size: number; dim: number; l2_normalised: boolean };
  embed_dim: number;
  logit_scale: number;
  logit_bias: number;
  text: TextManifest;
  teacher: boolean;
  files: ManifestFile[];
  default_prompts: string[];
  /** Held-out pictures shipped in the folder for the gallery (paths relative to the folder). */
  samples?: ManifestSample[];
  /** The training data's concepts (optional; toklip-export writes the held-out ones): a zero-shot label set. */
  concepts?: ManifestConcept[];
  /** Sibling folders of the same model in other dtypes (toklip-export with several --dtype). */
  variants?: ManifestVariantRef[];
  memory?: MemorySpec;
  variant?: VariantSpec;
  metrics?: Record<string, unknown> | null;
  license?: { code?: string; weights?: string; data_attribution?: string[] };
}

export interface ManifestSample {
  file: string;
  title: string;
  credit: string;
  license: string;
  /** val: a held-out photo or concept; heldout_style: the art style kept out of training */
  split: 'val' | 'heldout_style';
  source?: string;
  bytes?: number;
  sha256: string;
}

export interface ManifestConcept {
  /** the label shown */
  name: string;
  /** the text embedded for it (a caption from the training data) */
  prompt: string;
  /** val: held out of training (no picture of it was trained on) */
  split: 'train' | 'val';
}

export interface ManifestVariantRef {
  dtype: string;
  /** `../<folder>/`, relative to this folder */
  path: string;
}

/** A sibling folder, one level up: nothing else (no deeper paths, no `..` as the name). */
export const SIBLING_PATH = /^\.\.\/(?!\.\.?\/)[A-Za-z0-9._-]+\/$/;

function checkVariantRefs(c: Checker, m: Obj, P: string): void {
  const variants = m.variants;
  if (variants === undefined) return;
  if (!Array.isArray(variants)) {
    c.fail(`${P}.variants`, 'a list', variants);
    return;
  }
  variants.forEach((x: unknown, i) => {
    const S = `${P}.variants[${i}]`;
    if (!isObj(x)) {
      c.fail(S, 'an object', x);
      return;
    }
    c.str(x, 'dtype', S, { nonEmpty: true });
    const path = c.str(x, 'path', S, { nonEmpty: true });
    if (path && !SIBLING_PATH.test(path)) c.fail(`${S}.path`, 'a sibling folder as ../<folder>/', path);
  });
}

function checkConcepts(c: Checker, m: Obj, P: string): void {
  const concepts = m.concepts;
  if (concepts === undefined) return;
  if (!Array.isArray(concepts)) {
    c.fail(`${P}.concepts`, 'a list', concepts);
    return;
  }
  concepts.forEach((x: unknown, i) => {
    const S = `${P}.concepts[${i}]`;
    if (!isObj(x)) {
      c.fail(S, 'an object', x);
      return;
    }
    c.str(x, 'name', S, { nonEmpty: true });
    c.str(x, 'prompt', S, { nonEmpty: true });
    c.str(x, 'split', S, { oneOf: ['train', 'val'] });
  });
}

function checkSamples(c: Checker, m: Obj, P: string): void {
  const samples = m.samples;
  if (samples === undefined) return;
  if (!Array.isArray(samples)) {
    c.fail(`${P}.samples`, 'a list', samples);
    return;
  }
  samples.forEach((smp: unknown, i) => {
    const S = `${P}.samples[${i}]`;
    if (!isObj(smp)) {
      c.fail(S, 'an object', smp);
      return;
    }
    const file = c.str(smp, 'file', S, { nonEmpty: true });
    if (file && unsafePath(file)) c.fail(`${S}.file`, 'a path inside the model folder', file);
    c.str(smp, 'title', S);
    c.str(smp, 'credit', S);
    c.str(smp, 'license', S);
    c.str(smp, 'split', S, { oneOf: ['val', 'heldout_style'] });
    const sha = c.str(smp, 'sha256', S);
    if (sha && !/^[0-9a-f]{64}$/.test(sha)) c.fail(`${S}.sha256`, '64 lowercase hex digits', sha);
  });
}

export class ManifestError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid model manifest: ${problems.join('; ')}`);
    this.name = 'ManifestError';
    this.problems = problems;
  }
}

type Obj = Record<string, unknown>;

const show = (v: unknown): string => {
  if (v === undefined) return 'nothing';
  try {
    const s = JSON.stringify(v);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return String(v);
  }
};

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

class Checker {
  problems: string[] = [];
  fail(path: string, want: string, got: unknown): void {
    this.problems.push(`${path}: expected ${want}, got ${show(got)}`);
  }
  obj(o: Obj, key: string, path: string): Obj {
    const v = o[key];
    if (!isObj(v)) {
      this.fail(`${path}.${key}`, 'an object', v);
      return {};
    }
    return v;
  }
  str(
    o: Obj,
    key: string,
    path: string,
    opts: { nonEmpty?: boolean; oneOf?: readonly string[] } = {},
  ): string {
    const v = o[key];
    if (typeof v !== 'string' || (opts.nonEmpty && v.length === 0)) {
      this.fail(`${path}.${key}`, opts.nonEmpty ? 'a non-empty string' : 'a string', v);
      return '';
    }
    if (opts.oneOf && !opts.oneOf.includes(v)) {
      this.fail(`${path}.${key}`, `one of ${opts.oneOf.map((s) => `"${s}"`).join(', ')}`, v);
    }
    return v;
  }
  num(
    o: Obj,
    key: string,
    path: string,
    opts: { int?: boolean; min?: number; positive?: boolean } = {},
  ): number {
    const v = o[key];
    const desc = opts.positive
      ? opts.int
        ? 'a positive integer'
        : 'a positive number'
      : opts.int
        ? 'an integer'
        : 'a finite number';
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      this.fail(`${path}.${key}`, desc, v);
      return 0;
    }
    if (
      (opts.int && !Number.isInteger(v)) ||
      (opts.positive && v <= 0) ||
      (opts.min !== undefined && v < opts.min)
    ) {
      this.fail(`${path}.${key}`, opts.min !== undefined ? `${desc} >= ${opts.min}` : desc, v);
    }
    return v;
  }
  /** Absent (and, with `nullable`, null) is allowed; otherwise an integer >= min. */
  optInt(o: Obj, key: string, path: string, opts: { min?: number; nullable?: boolean } = {}): void {
    const v = o[key];
    if (v === undefined || (opts.nullable && v === null)) return;
    const min = opts.min ?? 0;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      this.fail(`${path}.${key}`, `${opts.nullable ? 'null or ' : ''}an integer >= ${min}`, v);
    }
  }
  optStrList(o: Obj, key: string, path: string, opts: { nonEmpty?: boolean } = {}): string[] {
    const v = o[key];
    if (v === undefined) return [];
    if (
      !Array.isArray(v) ||
      !v.every((x) => typeof x === 'string' && x.length > 0) ||
      (opts.nonEmpty && v.length === 0)
    ) {
      this.fail(`${path}.${key}`, `a ${opts.nonEmpty ? 'non-empty ' : ''}list of non-empty strings`, v);
      return [];
    }
    return v as string[];
  }
  bool(o: Obj, key: string, path: string): boolean {
    const v = o[key];
    if (typeof v !== 'boolean') {
      this.fail(`${path}.${key}`, 'true or false', v);
      return false;
    }
    return v;
  }
  triple(
    o: Obj,
    key: string,
    path: string,
    check: (x: number) => boolean,
    want: string,
  ): [number, number, number] {
    const v = o[key];
    if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'number' && check(x))) {
      this.fail(`${path}.${key}`, `3 ${want}`, v);
      return [0, 0, 0];
    }
    return [v[0], v[1], v[2]] as [number, number, number];
  }
}

/**
 * A path that could leave the model folder: absolute, with a '..' segment or a scheme (also "C:"). Backslashes are
 * refused too: a folder on disk is keyed by '/'-separated paths, and "..\\x" must not pass as a file name.
 */
const unsafePath = (path: string): boolean =>
  path.startsWith('/') || path.split('/').includes('..') || /^[a-z]+:/i.test(path) || path.includes('\\');

const DATA_ROLE = /^(.+)_data_(\d+)$/;

/**
 * The image section's preprocessing fields: `preprocessing` is required and must be `official_toklip`; its
 * descriptive fields may be left out but must not say something else. A manifest without the field, or naming the
 * legacy mode, gets one problem that says what to do, not a list of contradicting fields.
 */
function checkPreprocessing(c: Checker, image: Obj, P: string): void {
  const mode = image.preprocessing;
  if (mode === undefined || mode === LEGACY_MODE) {
    const what = mode === undefined ? 'missing, which meant' : `"${LEGACY_MODE}" is`;
    c.problems.push(
      `${P}.preprocessing: ${what} the legacy TokLIP-Tiny v1 preprocessing, no longer supported: ` +
        're-export the model with the current toklip-export, which writes "preprocessing": "official_toklip"',
    );
    return;
  }
  c.str(image, 'preprocessing', P, { oneOf: ['official_toklip'] });
  for (const key of ['resize', 'interpolation', 'alpha'] as const) {
    if (image[key] !== undefined) c.str(image, key, P, { oneOf: [OFFICIAL_TOKLIP[key]] });
  }
  if (image.resize_pass_order !== undefined) c.str(image, 'resize_pass_order', P, { oneOf: PASS_ORDERS });
  if (image.alpha_background !== undefined)
    c.problems.push(
      `${P}.alpha_background: has no effect in official_toklip (alpha is dropped, as convert('RGB') does)`,
    );
}

function checkText(c: Checker, text: Obj, P: string): void {
  const T = `${P}.text`;
  c.num(text, 'context_length', T, { int: true, positive: true });
  c.num(text, 'pad_id', T, { int: true, min: 0 });
  c.str(text, 'clean', T, { oneOf: ['canonicalize'] });
  const input = text.input;
  if (input !== 'ids' && input !== 'embeddings') {
    c.problems.push(
      `${T}.input: this app feeds its text encoder "ids" or "embeddings", the manifest asks for ${show(input)}`,
    );
  }
  if (text.clean_rule !== undefined) c.str(text, 'clean_rule', T, { oneOf: ['big_vision'] });
  c.optInt(text, 'bos_id', T, { nullable: true });
  c.optInt(text, 'eos_id', T, { nullable: true });
  if (text.padding_side !== undefined) c.str(text, 'padding_side', T, { oneOf: ['left', 'right'] });
  if (input !== 'embeddings') return;

  const table = c.obj(text, 'embedding_table', T);
  if (!Object.keys(table).length) return;
  const E = `${T}.embedding_table`;
  c.str(table, 'role', E, { oneOf: ['text_embedding'] });
  const path = c.str(table, 'path', E, { nonEmpty: true });
  if (path && unsafePath(path))
    c.fail(`${E}.path`, "a relative path inside the model folder (no '..', no scheme)", path);
  const rows = c.num(table, 'rows', E, { int: true, positive: true });
  const dim = c.num(table, 'dim', E, { int: true, positive: true });
  const dtype = c.str(table, 'dtype', E, { oneOf: TABLE_DTYPES }) as TableDtype;
  const rowBytes = c.num(table, 'row_bytes', E, { int: true, positive: true });
  const bytes = c.num(table, 'bytes', E, { int: true, min: 0 });
  if (table.layout !== undefined) c.str(table, 'layout', E);
  if (TABLE_DTYPES.includes(dtype) && dim > 0 && rowBytes > 0 && rowBytes !== tableRowBytes(dtype, dim)) {
    c.problems.push(
      `${E}.row_bytes: a ${dtype} row of ${dim} values has ${tableRowBytes(dtype, dim)} bytes, the manifest says ${rowBytes}`,
    );
  }
  if (rows > 0 && rowBytes > 0 && bytes !== rows * rowBytes) {
    c.problems.push(
      `${E}.bytes: ${rows} rows of ${rowBytes} bytes are ${rows * rowBytes} bytes, the manifest says ${bytes}`,
    );
  }
  for (const key of ['pad_id', 'bos_id', 'eos_id'] as const) {
    const id = text[key];
    if (typeof id === 'number' && rows > 0 && id >= rows)
      c.problems.push(`${T}.${key}: ${id} is not a row of the ${rows}-row embedding table`);
  }
}

/** external_data lists and their `<role>_data_<i>` entries must describe each other exactly. */
function checkExternalData(c: Checker, files: Obj[], P: string): void {
  const byRole = new Map<string, { f: Obj; i: number }>();
  files.forEach((f, i) => typeof f.role === 'string' && byRole.set(f.role, { f, i }));
  files.forEach((f, i) => {
    const fp = `${P}.files[${i}]`;
    if (f.external_data === undefined) return;
    const shards = c.optStrList(f, 'external_data', fp, { nonEmpty: true });
    const role = f.role as string;
    if (!(GRAPH_ROLES as readonly string[]).includes(role)) {
      c.problems.push(`${fp}.external_data: only graph files have external data, this is "${role}"`);
      return;
    }
    shards.forEach((name, k) => {
      if (unsafePath(name)) c.fail(`${fp}.external_data[${k}]`, 'a file name inside the model folder', name);
      const entry = byRole.get(`${role}_data_${k}`);
      if (!entry) {
        c.problems.push(
          `${P}.files: no file with role "${role}_data_${k}" for ${role}'s external data "${name}"`,
        );
      } else if (entry.f.path !== name) {
        c.problems.push(
          `${P}.files[${entry.i}].path: ${role}'s external_data[${k}] is ${show(name)}, the entry says ${show(entry.f.path)}`,
        );
      }
    });
  });
  files.forEach((f, i) => {
    const m = typeof f.role === 'string' ? DATA_ROLE.exec(f.role) : null;
    if (!m) return;
    const [, graph, k] = m as unknown as [string, string, string];
    const fp = `${P}.files[${i}]`;
    if (f.graph !== graph) c.fail(`${fp}.graph`, `"${graph}" (the role is "${f.role as string}")`, f.graph);
    const owner = byRole.get(graph)?.f;
    const list = owner && Array.isArray(owner.external_data) ? owner.external_data : [];
    if (list[Number(k)] !== f.path)
      c.problems.push(`${fp}: "${f.role as string}" is not listed in ${graph}'s external_data`);
  });
}

function checkVariant(c: Checker, m: Obj, P: string): void {
  if (m.variant === undefined) return;
  const v = c.obj(m, 'variant', P);
  if (!Object.keys(v).length) return;
  const V = `${P}.variant`;
  c.str(v, 'dtype', V, { nonEmpty: true });
  if (v.compute !== undefined) c.str(v, 'compute', V);
  c.optStrList(v, 'providers', V, { nonEmpty: true });
  c.optStrList(v, 'requires', V);
}

function checkMemory(c: Checker, m: Obj, P: string): void {
  if (m.memory === undefined) return;
  const mem = c.obj(m, 'memory', P);
  const M = `${P}.memory`;
  for (const key of [
    'weights_bytes',
    'peak_estimate_bytes',
    'largest_file_bytes',
    'largest_tensor_bytes',
    'text_embedding_table_bytes',
  ])
    c.optInt(mem, key, M);
  if (mem.graph_weights_bytes !== undefined) {
    const g = c.obj(mem, 'graph_weights_bytes', M);
    for (const key of Object.keys(g)) c.optInt(g, key, `${M}.graph_weights_bytes`);
  }
  if (mem.note !== undefined) c.str(mem, 'note', M);
}

/** Validates parsed manifest JSON; throws ManifestError listing every problem found. */
export function validateManifest(json: unknown): Manifest {
  const c = new Checker();
  if (!isObj(json)) throw new ManifestError([`manifest: expected a JSON object, got ${show(json)}`]);
  const m = json;
  const P = 'manifest';
  c.str(m, 'schema', P, { oneOf: [MANIFEST_SCHEMA] });
  if (m.schema_version !== MANIFEST_SCHEMA_VERSION) {
    c.problems.push(
      `${P}.schema_version: this app reads schema version ${MANIFEST_SCHEMA_VERSION}, the manifest has ${show(m.schema_version)}`,
    );
  }
  c.str(m, 'id', P, { nonEmpty: true });
  c.str(m, 'display_name', P, { nonEmpty: true });
  if (m.description !== undefined && typeof m.description !== 'string')
    c.fail(`${P}.description`, 'a string', m.description);

  const image = c.obj(m, 'image', P);
  if (Object.keys(image).length) {
    c.num(image, 'size', `${P}.image`, { int: true, positive: true });
    c.triple(image, 'mean', `${P}.image`, Number.isFinite, 'finite numbers');
    c.triple(image, 'std', `${P}.image`, (x) => Number.isFinite(x) && x > 0, 'positive numbers');
    checkPreprocessing(c, image, `${P}.image`);
  }
  const grid = c.obj(m, 'grid', P);
  if (Object.keys(grid).length) {
    c.num(grid, 'h', `${P}.grid`, { int: true, positive: true });
    c.num(grid, 'w', `${P}.grid`, { int: true, positive: true });
  }
  c.num(m, 'downsample', P, { int: true, positive: true });
  const cb = c.obj(m, 'codebook', P);
  if (Object.keys(cb).length) {
    c.num(cb, 'size', `${P}.codebook`, { int: true, positive: true });
    c.num(cb, 'dim', `${P}.codebook`, { int: true, positive: true });
    c.bool(cb, 'l2_normalised', `${P}.codebook`);
  }
  c.num(m, 'embed_dim', P, { int: true, positive: true });
  c.num(m, 'logit_scale', P);
  c.num(m, 'logit_bias', P);
  const text = c.obj(m, 'text', P);
  if (Object.keys(text).length) checkText(c, text, P);
  const teacher = c.bool(m, 'teacher', P);

  const files = m.files;
  const roles = new Set<string>();
  if (!Array.isArray(files) || files.length === 0) {
    c.fail(`${P}.files`, 'a non-empty list', files);
  } else {
    files.forEach((f, i) => {
      const fp = `${P}.files[${i}]`;
      if (!isObj(f)) return c.fail(fp, 'an object', f);
      const role = c.str(f, 'role', fp, { nonEmpty: true });
      const path = c.str(f, 'path', fp, { nonEmpty: true });
      if (path && unsafePath(path)) {
        c.fail(`${fp}.path`, "a relative path inside the model folder (no '..', no scheme)", path);
      }
      if (f.graph !== undefined && typeof f.graph !== 'string') c.fail(`${fp}.graph`, 'a string', f.graph);
      c.num(f, 'bytes', fp, { int: true, min: 0 });
      const sha = c.str(f, 'sha256', fp);
      if (sha && !/^[0-9a-f]{64}$/.test(sha)) c.fail(`${fp}.sha256`, '64 lower-case hex digits', sha);
      if (role) {
        if (roles.has(role)) c.problems.push(`${fp}.role: role "${role}" is listed twice`);
        roles.add(role);
      }
    });
    const required = [
      'vq_encoder',
      'vq_decoder',
      'semantic_encoder',
      'text_encoder',
      'tokenizer',
      'codebook',
    ];
    if (teacher) required.push('teacher_image_encoder');
    if (isObj(text) && text.input === 'embeddings') required.push('text_embedding');
    for (const r of required) {
      if (!roles.has(r))
        c.problems.push(
          `${P}.files: no file with role "${r}"${r === 'teacher_image_encoder' ? ' (teacher is true)' : ''}${r === 'text_embedding' ? ' (text.input is "embeddings")' : ''}`,
        );
    }
    const objs = files.filter(isObj);
    checkExternalData(c, objs, P);
    const table = isObj(text) && isObj(text.embedding_table) ? text.embedding_table : undefined;
    const tableFile = objs.find((f) => f.role === 'text_embedding');
    if (table && tableFile && (tableFile.path !== table.path || tableFile.bytes !== table.bytes)) {
      c.problems.push(
        `${P}.files: the "text_embedding" entry (${show(tableFile.path)}, ${show(tableFile.bytes)} bytes) disagrees with text.embedding_table (${show(table.path)}, ${show(table.bytes)} bytes)`,
      );
    }
  }
  checkVariant(c, m, P);
  checkMemory(c, m, P);
  checkSamples(c, m, P);
  checkConcepts(c, m, P);
  checkVariantRefs(c, m, P);
  const dp = m.default_prompts;
  if (!Array.isArray(dp) || !dp.every((p) => typeof p === 'string'))
    c.fail(`${P}.default_prompts`, 'a list of strings', dp);

  if (c.problems.length) throw new ManifestError(c.problems);
  return json as unknown as Manifest;
}

export function fileByRole(manifest: Manifest, role: FileRole | (string & {})): ManifestFile | undefined {
  return manifest.files.find((f) => f.role === role);
}

/** The token-embedding table the text encoder's rows come from (text.input "embeddings"), else undefined. */
export function embeddingTable(manifest: Manifest): EmbeddingTableSpec | undefined {
  return manifest.text.input === 'embeddings' ? manifest.text.embedding_table : undefined;
}

/** The `<role>_data_<i>` entries of a graph, in external_data order. */
export function externalDataFiles(manifest: Manifest, role: GraphRole): ManifestFile[] {
  const graph = fileByRole(manifest, role);
  return (graph?.external_data ?? []).map((_, i) => fileByRole(manifest, `${role}_data_${i}`)!);
}
