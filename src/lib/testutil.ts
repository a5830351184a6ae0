/** Test-only helpers (Node). */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');

export function readGolden<T>(relPath: string): T {
  const file = resolve(REPO_ROOT, relPath);
  if (!existsSync(file)) {
    throw new Error(`golden file ${relPath} is missing: it is written by the Python side (toklip-golden)`);
  }
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

export function b64ToBytes(b64: string): Uint8Array {
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

export function b64ToFloat32LE(b64: string): Float32Array {
  const bytes = b64ToBytes(b64);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** Small deterministic PRNG: the one the token lab shuffles with. */
export { mulberry32 as rng } from './tokenEdit';

/** The contract's example manifest, valid. */
const sha = 'a'.repeat(64);
export function sampleManifest(): Record<string, unknown> {
  return {
    schema: 'toklip-studio/model-manifest',
    schema_version: 1,
    id: 'toklip-tiny',
    display_name: 'TokLIP-Tiny (128 px)',
    description: 'test',
    image: {
      size: 128,
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
      preprocessing: 'official_toklip',
      resize: 'shortest_side_then_center_crop',
      interpolation: 'pillow_bicubic',
      alpha: 'dropped',
    },
    grid: { h: 16, w: 16 },
    downsample: 8,
    codebook: { size: 1024, dim: 8, l2_normalised: true },
    embed_dim: 256,
    logit_scale: 10,
    logit_bias: -10,
    text: { context_length: 16, pad_id: 0, clean: 'canonicalize', input: 'ids' },
    teacher: true,
    files: [
      'vq_encoder',
      'vq_decoder',
      'semantic_encoder',
      'text_encoder',
      'teacher_image_encoder',
      'tokenizer',
      'codebook',
    ].map((role) => ({ role, path: `${role}.bin`, bytes: 10, sha256: sha })),
    default_prompts: ['a photo of a cat'],
  };
}

/** The contract's "Large models" example (text from token embeddings, external data, variant, memory), valid. */
export function sampleOfficialManifest(): Record<string, unknown> {
  const m = sampleManifest();
  m.teacher = false;
  m.text = {
    context_length: 64,
    pad_id: 0,
    clean: 'canonicalize',
    clean_rule: 'big_vision',
    bos_id: null,
    eos_id: 1,
    padding_side: 'right',
    input: 'embeddings',
    embedding_table: {
      role: 'text_embedding',
      path: 'text_embedding.bin',
      rows: 256000,
      dim: 1152,
      dtype: 'fp16',
      row_bytes: 2304,
      layout: 'float16 LE rows',
      bytes: 589824000,
    },
  };
  const graph = (role: string, shards: number) => ({
    role,
    path: `${role}.onnx`,
    dtype: 'fp16',
    bytes: 10,
    sha256: sha,
    ...(shards ? { external_data: Array.from({ length: shards }, (_, i) => `${role}.onnx.data${i}`) } : {}),
  });
  m.files = [
    graph('vq_encoder', 0),
    graph('vq_decoder', 0),
    graph('semantic_encoder', 2),
    graph('text_encoder', 1),
    { role: 'tokenizer', path: 'tokenizer.json', bytes: 10, sha256: sha },
    { role: 'codebook', path: 'codebook.bin', bytes: 10, sha256: sha },
    { role: 'text_embedding', path: 'text_embedding.bin', dtype: 'fp16', bytes: 589824000, sha256: sha },
    ...[
      ['semantic_encoder', 0],
      ['semantic_encoder', 1],
      ['text_encoder', 0],
    ].map(([g, i]) => ({
      role: `${g}_data_${i}`,
      path: `${g}.onnx.data${i}`,
      dtype: 'fp16',
      bytes: 10,
      sha256: sha,
      graph: g,
    })),
  ];
  m.variant = { dtype: 'fp16', compute: 'fp16', providers: ['webgpu'], requires: ['shader-f16'] };
  m.memory = {
    weights_bytes: 100,
    peak_estimate_bytes: 200,
    graph_weights_bytes: { vq_encoder: 1, vq_decoder: 2, semantic_encoder: 3, text_encoder: 4 },
    largest_file_bytes: 50,
    largest_tensor_bytes: 20,
    text_embedding_table_bytes: 589824000,
    note: 'test',
  };
  return m;
}
