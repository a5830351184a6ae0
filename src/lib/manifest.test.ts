import { describe, expect, it } from 'vitest';
import { externalDataFiles, ManifestError, validateManifest } from './manifest';
import { sampleManifest, sampleOfficialManifest } from './testutil';

function problems(m: unknown): string[] {
  try {
    validateManifest(m);
  } catch (e) {
    expect(e).toBeInstanceOf(ManifestError);
    return (e as ManifestError).problems;
  }
  return [];
}

describe('validateManifest', () => {
  it('accepts the contract example', () => {
    expect(validateManifest(sampleManifest()).grid).toEqual({ h: 16, w: 16 });
  });

  it('reads official_toklip with or without its descriptive fields', () => {
    const full = sampleManifest();
    expect(validateManifest(full).image.preprocessing).toBe('official_toklip');
    (full.image as Record<string, unknown>).resize_pass_order = 'horizontal_first';
    expect(validateManifest(full).image.resize_pass_order).toBe('horizontal_first');
    const bare = sampleManifest();
    bare.image = { size: 128, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], preprocessing: 'official_toklip' };
    expect(validateManifest(bare).image.preprocessing).toBe('official_toklip');
  });

  it('refuses the legacy TokLIP-Tiny v1 preprocessing, absent or named, with one problem that says what to do', () => {
    const advice =
      'the legacy TokLIP-Tiny v1 preprocessing, no longer supported: re-export the model with the current ' +
      'toklip-export, which writes "preprocessing": "official_toklip"';
    // The v1 image section as toklip-export wrote it before modes had names: its own fields are not listed too.
    const v1 = {
      size: 128,
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
      resize: 'center_crop_then_resize',
      interpolation: 'triangle_antialias',
      alpha_background: [255, 255, 255],
    };
    expect(problems({ ...sampleManifest(), image: v1 })).toEqual([
      `manifest.image.preprocessing: missing, which meant ${advice}`,
    ]);
    expect(
      problems({ ...sampleManifest(), image: { ...v1, preprocessing: 'center_crop_triangle_float' } }),
    ).toEqual([`manifest.image.preprocessing: "center_crop_triangle_float" is ${advice}`]);
    // What the user reads (the model panel shows the error's message).
    expect(() => validateManifest({ ...sampleManifest(), image: v1 })).toThrow(
      /^Invalid model manifest: manifest\.image\.preprocessing: .*re-export the model/,
    );
  });

  it('refuses unknown modes and descriptive fields that contradict official_toklip', () => {
    const unknown = sampleManifest();
    (unknown.image as Record<string, unknown>).preprocessing = 'squash';
    expect(problems(unknown)).toEqual([
      'manifest.image.preprocessing: expected one of "official_toklip", got "squash"',
    ]);
    const mixed = sampleManifest();
    Object.assign(mixed.image as Record<string, unknown>, {
      resize: 'center_crop_then_resize',
      interpolation: 'triangle_antialias',
      alpha: 'composited',
      alpha_background: [255, 255, 255],
      resize_pass_order: 'pillow12',
    });
    expect(problems(mixed)).toEqual([
      'manifest.image.resize: expected one of "shortest_side_then_center_crop", got "center_crop_then_resize"',
      'manifest.image.interpolation: expected one of "pillow_bicubic", got "triangle_antialias"',
      'manifest.image.alpha: expected one of "dropped", got "composited"',
      'manifest.image.resize_pass_order: expected one of "pillow13", "horizontal_first", got "pillow12"',
      "manifest.image.alpha_background: has no effect in official_toklip (alpha is dropped, as convert('RGB') does)",
    ]);
  });

  it('rejects another schema version with a clear message', () => {
    const m = { ...sampleManifest(), schema_version: 2 };
    expect(problems(m)).toEqual([
      'manifest.schema_version: this app reads schema version 1, the manifest has 2',
    ]);
  });

  it('names the bad fields', () => {
    const m = sampleManifest();
    (m.image as Record<string, unknown>).size = '128';
    (m.grid as Record<string, unknown>).w = 0;
    m.logit_scale = null;
    const p = problems(m);
    expect(p).toContain('manifest.image.size: expected a positive integer, got "128"');
    expect(p).toContain('manifest.grid.w: expected a positive integer, got 0');
    expect(p).toContain('manifest.logit_scale: expected a finite number, got null');
  });

  it('requires the graph files, the teacher when announced, and sane paths and hashes', () => {
    const m = sampleManifest();
    const files = m.files as Record<string, unknown>[];
    m.files = files.filter((f) => f.role !== 'teacher_image_encoder' && f.role !== 'codebook');
    (files[0] as Record<string, unknown>).path = '../etc/passwd';
    (files[1] as Record<string, unknown>).sha256 = 'ABC';
    const p = problems(m);
    expect(p).toContain('manifest.files: no file with role "codebook"');
    expect(p).toContain('manifest.files: no file with role "teacher_image_encoder" (teacher is true)');
    expect(p.some((s) => s.startsWith('manifest.files[0].path'))).toBe(true);
    expect(p).toContain('manifest.files[1].sha256: expected 64 lower-case hex digits, got "ABC"');
  });

  it('refuses every file path that could leave the model folder, naming the entry and the path', () => {
    for (const bad of [
      '../x.onnx',
      'a/../../x.onnx',
      '/etc/x.onnx',
      'C:/x.onnx',
      'file:x.onnx',
      '..\\x.onnx',
    ]) {
      const m = sampleManifest();
      (m.files as Record<string, unknown>[])[2]!.path = bad;
      expect(problems(m)).toContain(
        `manifest.files[2].path: expected a relative path inside the model folder (no '..', no scheme), got ${JSON.stringify(bad)}`,
      );
    }
    const m = sampleManifest();
    (m.files as Record<string, unknown>[])[2]!.path = 'sub/./x..onnx';
    expect(problems(m).filter((p) => p.startsWith('manifest.files[2].path'))).toEqual([]);
  });

  it('checks held-out samples: inside the folder, a known split, a sha256', () => {
    const good = {
      file: 'samples/x.jpg',
      title: 'an emoji of a cat',
      credit: 'Twemoji',
      license: 'CC-BY-4.0',
      split: 'val',
      sha256: 'a'.repeat(64),
    };
    expect(validateManifest({ ...sampleManifest(), samples: [good] }).samples?.[0]?.file).toBe(
      'samples/x.jpg',
    );
    expect(problems({ ...sampleManifest(), samples: 'x' })).toEqual([
      'manifest.samples: expected a list, got "x"',
    ]);
    for (const [bad, want] of [
      [{ file: '../x.jpg' }, 'manifest.samples[0].file: expected a path inside the model folder'],
      [
        { file: 'https://evil.example/x.jpg' },
        'manifest.samples[0].file: expected a path inside the model folder',
      ],
      [{ split: 'train' }, 'manifest.samples[0].split: expected one of'],
      [{ sha256: 'XYZ' }, 'manifest.samples[0].sha256: expected 64 lowercase hex digits'],
    ] as const) {
      const p = problems({ ...sampleManifest(), samples: [{ ...good, ...bad }] });
      expect(p).toHaveLength(1);
      expect(p[0]).toContain(want);
    }
  });

  it('checks the optional concepts list: name, prompt, a known split', () => {
    const good = { name: 'propeller hat', prompt: 'a propeller hat', split: 'val' };
    expect(validateManifest(sampleManifest()).concepts).toBeUndefined();
    expect(validateManifest({ ...sampleManifest(), concepts: [good] }).concepts?.[0]?.prompt).toBe(
      'a propeller hat',
    );
    expect(problems({ ...sampleManifest(), concepts: 'x' })).toEqual([
      'manifest.concepts: expected a list, got "x"',
    ]);
    for (const [bad, want] of [
      [{ name: '' }, 'manifest.concepts[0].name: expected a non-empty string'],
      [{ prompt: 3 }, 'manifest.concepts[0].prompt: expected a non-empty string'],
      [{ split: 'heldout_style' }, 'manifest.concepts[0].split: expected one of'],
    ] as const) {
      const p = problems({ ...sampleManifest(), concepts: [{ ...good, ...bad }] });
      expect(p).toHaveLength(1);
      expect(p[0]).toContain(want);
    }
  });

  it('rejects non-objects and unknown preprocessing', () => {
    expect(problems([])).toEqual(['manifest: expected a JSON object, got []']);
    const m = sampleManifest();
    (m.image as Record<string, unknown>).interpolation = 'bicubic';
    expect(problems(m)).toEqual([
      'manifest.image.interpolation: expected one of "pillow_bicubic", got "bicubic"',
    ]);
  });
});

describe('validateManifest: large-model fields (contract "Large models")', () => {
  type O = Record<string, unknown>;
  const text = (m: O) => m.text as O;
  const table = (m: O) => text(m).embedding_table as O;
  const file = (m: O, role: string) => (m.files as O[]).find((f) => f.role === role)!;

  it('accepts the official example and keeps its fields', () => {
    const m = validateManifest(sampleOfficialManifest());
    expect(m.text.input).toBe('embeddings');
    expect(m.text.embedding_table?.dtype).toBe('fp16');
    expect(m.variant?.requires).toEqual(['shader-f16']);
    expect(m.memory?.largest_tensor_bytes).toBe(20);
    expect(externalDataFiles(m, 'semantic_encoder').map((f) => f.path)).toEqual([
      'semantic_encoder.onnx.data0',
      'semantic_encoder.onnx.data1',
    ]);
    expect(externalDataFiles(m, 'vq_encoder')).toEqual([]);
  });

  it('refuses an unknown text input with a clear message', () => {
    const m = sampleOfficialManifest();
    text(m).input = 'tokens';
    expect(problems(m)).toEqual([
      'manifest.text.input: this app feeds its text encoder "ids" or "embeddings", the manifest asks for "tokens"',
    ]);
    text(m).input = undefined;
    expect(problems(m)[0]).toMatch(/asks for nothing$/);
  });

  it('checks the text rule fields', () => {
    const m = sampleOfficialManifest();
    Object.assign(text(m), { clean_rule: 'ftfy', bos_id: -1, eos_id: 1.5, padding_side: 'middle' });
    expect(problems(m)).toEqual([
      'manifest.text.clean_rule: expected one of "big_vision", got "ftfy"',
      'manifest.text.bos_id: expected null or an integer >= 0, got -1',
      'manifest.text.eos_id: expected null or an integer >= 0, got 1.5',
      'manifest.text.padding_side: expected one of "left", "right", got "middle"',
    ]);
    // absent optional fields are the TokLIP-Tiny behaviour
    const tiny = sampleManifest();
    expect(validateManifest(tiny).text.clean_rule).toBeUndefined();
  });

  it('checks the embedding table against its own arithmetic and the files list', () => {
    const m = sampleOfficialManifest();
    Object.assign(table(m), { dtype: 'int8', row_bytes: 2304 });
    text(m).eos_id = 256000;
    file(m, 'text_embedding').bytes = 5;
    const p = problems(m);
    expect(p).toContain(
      'manifest.text.embedding_table.row_bytes: a int8 row of 1152 values has 1156 bytes, the manifest says 2304',
    );
    expect(p).toContain('manifest.text.eos_id: 256000 is not a row of the 256000-row embedding table');
    expect(p.some((s) => s.includes('the "text_embedding" entry'))).toBe(true);

    const n = sampleOfficialManifest();
    table(n).bytes = 1;
    expect(problems(n)).toEqual([
      'manifest.text.embedding_table.bytes: 256000 rows of 2304 bytes are 589824000 bytes, the manifest says 1',
      'manifest.files: the "text_embedding" entry ("text_embedding.bin", 589824000 bytes) disagrees with text.embedding_table ("text_embedding.bin", 1 bytes)',
    ]);

    const o = sampleOfficialManifest();
    delete text(o).embedding_table;
    o.files = (o.files as O[]).filter((f) => f.role !== 'text_embedding');
    expect(problems(o)).toEqual([
      'manifest.text.embedding_table: expected an object, got nothing',
      'manifest.files: no file with role "text_embedding" (text.input is "embeddings")',
    ]);
  });

  it('checks that external_data and the <role>_data_<i> entries match', () => {
    const m = sampleOfficialManifest();
    (file(m, 'semantic_encoder').external_data as string[])[1] = 'other.data';
    file(m, 'text_encoder_data_0').graph = 'vq_decoder';
    file(m, 'tokenizer').external_data = ['x'];
    const p = problems(m);
    expect(p).toContain(
      'manifest.files[8].path: semantic_encoder\'s external_data[1] is "other.data", the entry says "semantic_encoder.onnx.data1"',
    );
    expect(p).toContain(
      'manifest.files[8]: "semantic_encoder_data_1" is not listed in semantic_encoder\'s external_data',
    );
    expect(p).toContain(
      'manifest.files[9].graph: expected "text_encoder" (the role is "text_encoder_data_0"), got "vq_decoder"',
    );
    expect(p).toContain(
      'manifest.files[4].external_data: only graph files have external data, this is "tokenizer"',
    );

    const n = sampleOfficialManifest();
    n.files = (n.files as O[]).filter((f) => f.role !== 'text_encoder_data_0');
    expect(problems(n)).toEqual([
      'manifest.files: no file with role "text_encoder_data_0" for text_encoder\'s external data "text_encoder.onnx.data0"',
    ]);
    const q = sampleOfficialManifest();
    file(q, 'text_encoder_data_0').sha256 = 'nope';
    expect(problems(q)).toEqual(['manifest.files[9].sha256: expected 64 lower-case hex digits, got "nope"']);
  });

  it('checks variant and memory', () => {
    const m = sampleOfficialManifest();
    m.variant = { dtype: '', providers: [], requires: 'shader-f16' };
    (m.memory as O).peak_estimate_bytes = -1;
    (m.memory as O).graph_weights_bytes = { text_encoder: 'big' };
    expect(problems(m)).toEqual([
      'manifest.variant.dtype: expected a non-empty string, got ""',
      'manifest.variant.providers: expected a non-empty list of non-empty strings, got []',
      'manifest.variant.requires: expected a list of non-empty strings, got "shader-f16"',
      'manifest.memory.peak_estimate_bytes: expected an integer >= 0, got -1',
      'manifest.memory.graph_weights_bytes.text_encoder: expected an integer >= 0, got "big"',
    ]);
  });
});
