/**
 * Model manifest (docs/CONTRACT.md, schema version 1): types and a hand-written validator whose
 * messages name the offending field, e.g. `manifest.image.size: expected a positive integer, got "128"`.
 */

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
  | 'metrics';

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
}

export interface ImageSpec {
  size: number;
  mean: [number, number, number];
  std: [number, number, number];
  resize: 'center_crop_then_resize';
  interpolation: 'triangle_antialias';
  alpha_background: [number, number, number];
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
  text: { context_length: number; pad_id: number; clean: 'canonicalize'; input: 'ids' };
  teacher: boolean;
  files: ManifestFile[];
  default_prompts: string[];
  memory?: { weights_bytes?: number; peak_estimate_bytes?: number };
  metrics?: Record<string, unknown> | null;
  license?: { code?: string; weights?: string; data_attribution?: string[] };
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
    c.str(image, 'resize', `${P}.image`, { oneOf: ['center_crop_then_resize'] });
    c.str(image, 'interpolation', `${P}.image`, { oneOf: ['triangle_antialias'] });
    c.triple(
      image,
      'alpha_background',
      `${P}.image`,
      (x) => Number.isInteger(x) && x >= 0 && x <= 255,
      'integers 0..255',
    );
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
  if (Object.keys(text).length) {
    c.num(text, 'context_length', `${P}.text`, { int: true, positive: true });
    c.num(text, 'pad_id', `${P}.text`, { int: true, min: 0 });
    c.str(text, 'clean', `${P}.text`, { oneOf: ['canonicalize'] });
    c.str(text, 'input', `${P}.text`, { oneOf: ['ids'] });
  }
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
      if (path && (path.startsWith('/') || path.split('/').includes('..') || /^[a-z]+:/i.test(path))) {
        c.fail(`${fp}.path`, "a relative path inside the model folder (no '..', no scheme)", path);
      }
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
    for (const r of required) {
      if (!roles.has(r))
        c.problems.push(
          `${P}.files: no file with role "${r}"${r === 'teacher_image_encoder' ? ' (teacher is true)' : ''}`,
        );
    }
  }
  const dp = m.default_prompts;
  if (!Array.isArray(dp) || !dp.every((p) => typeof p === 'string'))
    c.fail(`${P}.default_prompts`, 'a list of strings', dp);

  if (c.problems.length) throw new ManifestError(c.problems);
  return json as unknown as Manifest;
}

export function fileByRole(manifest: Manifest, role: FileRole): ManifestFile | undefined {
  return manifest.files.find((f) => f.role === role);
}
