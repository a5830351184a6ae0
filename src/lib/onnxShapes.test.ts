import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GRAPH_ROLES, fileByRole, validateManifest, type Manifest } from './manifest';
import { checkGraphAgainstManifest, readGraphShapes } from './onnxShapes';
import { REPO_ROOT, sampleOfficialManifest } from './testutil';

const FOLDER = resolve(REPO_ROOT, 'public/models/toklip-tiny');
const HAVE_MODEL = existsSync(resolve(FOLDER, 'manifest.json'));

/** Hand-assembled protobuf: ModelProto{graph{input x [B,3,8,8], output y [B,4], initializer w}} */
function tinyModel(): Uint8Array {
  const varint = (n: number) => {
    const out: number[] = [];
    while (n >= 0x80) {
      out.push((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    out.push(n);
    return out;
  };
  const len = (field: number, body: number[]) => [...varint(field * 8 + 2), ...varint(body.length), ...body];
  const str = (field: number, s: string) => len(field, [...Buffer.from(s)]);
  const dim = (d: number | string) =>
    len(1, typeof d === 'number' ? [...varint(1 * 8), ...varint(d)] : str(2, d));
  const valueInfo = (name: string, dims: (number | string)[]) => [
    ...str(1, name),
    ...len(2, len(1, [...varint(8), ...varint(1), ...len(2, dims.flatMap(dim))])),
  ];
  const graph = [
    ...len(5, [...str(8, 'w'), ...len(9, [1, 2, 3, 4])]),
    ...len(11, valueInfo('w', [4])),
    ...len(11, valueInfo('x', ['B', 3, 8, 8])),
    ...len(12, valueInfo('y', ['B', 4])),
  ];
  return new Uint8Array([...varint(8), ...varint(8), ...len(7, graph)]);
}

describe('readGraphShapes', () => {
  it('reads inputs (without initializers) and outputs with symbolic and fixed dims', () => {
    const s = readGraphShapes(tinyModel());
    expect(s.inputs).toEqual([{ name: 'x', dims: ['B', 3, 8, 8] }]);
    expect(s.outputs).toEqual([{ name: 'y', dims: ['B', 4] }]);
  });

  it('rejects bytes that are not a model', () => {
    expect(() => readGraphShapes(new Uint8Array([0xff, 0xff, 0xff]))).toThrow();
    expect(() => readGraphShapes(new TextEncoder().encode('hello'))).toThrow();
  });
});

describe.skipIf(!HAVE_MODEL)('bundled model graphs agree with their manifest', () => {
  const manifest: Manifest = HAVE_MODEL
    ? validateManifest(JSON.parse(readFileSync(resolve(FOLDER, 'manifest.json'), 'utf8')))
    : ({} as Manifest);
  const graphs = GRAPH_ROLES.filter((r) => HAVE_MODEL && fileByRole(manifest, r));

  it.each(graphs)('%s', (role) => {
    const f = fileByRole(manifest, role)!;
    const shapes = readGraphShapes(new Uint8Array(readFileSync(resolve(FOLDER, f.path))));
    expect(checkGraphAgainstManifest(role, f.path, shapes, manifest)).toEqual([]);
  });

  it('a manifest with another grid is caught by at least one graph', () => {
    const wrong = { ...manifest, grid: { h: manifest.grid.h / 2, w: manifest.grid.w / 2 } };
    const problems = graphs.flatMap((role) => {
      const f = fileByRole(manifest, role)!;
      const shapes = readGraphShapes(new Uint8Array(readFileSync(resolve(FOLDER, f.path))));
      return checkGraphAgainstManifest(role, f.path, shapes, wrong);
    });
    expect(problems.join('\n')).toMatch(/grid \d+×\d+/);
  });
});

describe('text_encoder fed token embeddings', () => {
  const manifest = validateManifest(sampleOfficialManifest());
  const shapes = (dims: (number | string)[]) => ({
    inputs: [{ name: 'token_embeds', dims }],
    outputs: [{ name: 'embedding', dims: ['B', manifest.embed_dim] }],
    initializers: new Set<string>(),
  });

  it('expects [B, context_length, table dim]', () => {
    expect(checkGraphAgainstManifest('text_encoder', 't.onnx', shapes(['B', 64, 1152]), manifest)).toEqual(
      [],
    );
    expect(checkGraphAgainstManifest('text_encoder', 't.onnx', shapes(['B', 64]), manifest)).toEqual([
      't.onnx takes "token_embeds" of shape [B, 64], but the manifest\'s text.context_length 64 with embedding_table.dim 1152 implies [B, 64, 1152]',
    ]);
    expect(
      checkGraphAgainstManifest('text_encoder', 't.onnx', shapes(['B', 64, 768]), manifest)[0],
    ).toContain('[B, 64, 1152]');
  });
});
