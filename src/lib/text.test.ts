import { describe, expect, it } from 'vitest';
import { canonicalize, canonicalizeBigVision, cleanText, TextTokenizer } from './text';
import { ftfyFixText, openClipBasicClean } from './textFix';
import { readGolden } from './testutil';

/** A small WordLevel tokenizer.json (tokenizers' format) for tests independent of the model folder. */
const wordLevel = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: [
    {
      id: 0,
      content: '<pad>',
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    },
  ],
  normalizer: null,
  pre_tokenizer: { type: 'WhitespaceSplit' },
  post_processor: null,
  decoder: null,
  model: {
    type: 'WordLevel',
    vocab: { '<pad>': 0, '<unk>': 1, a: 2, photo: 3, of: 4, cat: 5, dog: 6 },
    unk_token: '<unk>',
  },
};

describe('canonicalize (SigLIP cleaner)', () => {
  it.each([
    ['A Photo of a CAT!', 'a photo of a cat'],
    ['  hello,\tworld...  ', 'hello world'],
    ["it's a dog-house", 'it s a dog house'],
    ['Café №5 — ÜBER 42', 'café 5 über 42'],
    ['', ''],
    ['?!', ''],
  ])('%j → %j', (input, want) => expect(canonicalize(input)).toBe(want));
});

describe('TextTokenizer', () => {
  it('encodes without special tokens, truncates and right-pads', () => {
    const t = new TextTokenizer(wordLevel, { context_length: 6, pad_id: 0 });
    expect(Array.from(t.encode('A photo of a cat.'))).toEqual([2, 3, 4, 2, 5, 0]);
    expect(Array.from(t.encode('a a a a a a a a dog'))).toEqual([2, 2, 2, 2, 2, 2]);
    expect(Array.from(t.encode('zebra'))).toEqual([1, 0, 0, 0, 0, 0]);
    expect(Array.from(t.encode('...'))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Array.from(t.encodeBatch(['cat', 'dog']))).toEqual([5, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0]);
  });
});

interface TextGolden {
  tokenizer: string;
  context_length: number;
  pad_id: number;
  cases: { text: string; canonical: string; ids: number[] }[];
}

describe('text golden values from Python (src/lib/__golden__/text.json)', () => {
  it('canonical text and ids equal the Python tokenizers output', () => {
    const golden = readGolden<TextGolden>('src/lib/__golden__/text.json');
    const tokenizerJson = readGolden<unknown>(golden.tokenizer);
    const t = new TextTokenizer(tokenizerJson, golden);
    expect(golden.cases.length).toBeGreaterThan(0);
    for (const c of golden.cases) {
      expect(canonicalize(c.text), JSON.stringify(c.text)).toBe(c.canonical);
      expect(Array.from(t.encode(c.text)), JSON.stringify(c.text)).toEqual(c.ids);
    }
  });
});

/**
 * Official-layout text front end against Python. src/lib/__golden__/official-*.json are written by
 * `.venv/bin/python scripts/official_goldens.py`, which runs toklip.official.TextRule (clean, encode without
 * special tokens, truncate to context_length − n_special, bos/eos, pad on padding_side),
 * canonicalize_big_vision and toklip.preprocess.canonicalize on the synthetic Gemma-layout tokenizer of
 * `toklip-synth-official --depth shallow` (and a copy with the 256 byte pieces, for byte fallback).
 */
interface OfficialGolden {
  big_vision: { text: string; clean: string }[];
  open_clip: { text: string; ftfy: string; basic: string; clean: string }[];
  mojibake: { text: string; ftfy: string; ftfy_without_fix_encoding: string }[];
  unicode: { text: string; clean: string }[];
  cases: {
    tokenizer: string;
    rule: {
      context_length: number;
      pad_id: number;
      bos_id: number | null;
      eos_id: number | null;
      padding_side: 'left' | 'right';
      clean_rule: 'big_vision' | 'canonicalize';
    };
    text: string;
    clean: string;
    ids: number[];
  }[];
}

describe('official text rules against Python (src/lib/__golden__/official-text.json)', () => {
  const golden = readGolden<OfficialGolden>('src/lib/__golden__/official-text.json');

  it('big_vision cleaning equals canonicalize_big_vision', () => {
    expect(golden.big_vision.length).toBeGreaterThan(10);
    for (const c of golden.big_vision)
      expect(canonicalizeBigVision(c.text), JSON.stringify(c.text)).toBe(c.clean);
  });

  it('ftfy.fix_text, html.unescape ×2 and the whole big_vision rule equal open_clip (clean_open_clip)', () => {
    expect(golden.open_clip.length).toBeGreaterThan(20);
    // the vectors must exercise every step, or a no-op could pass
    expect(golden.open_clip.some((c) => c.ftfy !== c.text)).toBe(true);
    expect(golden.open_clip.some((c) => c.basic !== c.ftfy)).toBe(true);
    expect(golden.open_clip.some((c) => c.clean !== canonicalizeBigVision(c.text))).toBe(true);
    for (const c of golden.open_clip) {
      const label = JSON.stringify(c.text);
      expect(ftfyFixText(c.text), `ftfy ${label}`).toBe(c.ftfy);
      expect(openClipBasicClean(c.text), `basic ${label}`).toBe(c.basic);
      expect(cleanText(c.text, 'big_vision'), `clean ${label}`).toBe(c.clean);
    }
  });

  it('mojibake: ftfy repairs it, the app does not (documented in textFix.ts and docs/OFFICIAL.md)', () => {
    expect(golden.mojibake.length).toBeGreaterThan(0);
    for (const c of golden.mojibake) {
      expect(ftfyFixText(c.text)).toBe(c.ftfy_without_fix_encoding);
      expect(ftfyFixText(c.text)).not.toBe(c.ftfy);
    }
  });

  it('every section covers the same texts, and every tokenizer × rule × text case is there', () => {
    // scripts/official_goldens.py writes one entry per text in each section and a case per tokenizer × rule × text
    const texts = golden.big_vision.map((c) => c.text);
    expect(texts.length).toBeGreaterThan(20);
    for (const section of [golden.open_clip, golden.unicode])
      expect(section.map((c) => c.text)).toEqual(texts);
    const tokenizers = new Set(golden.cases.map((c) => c.tokenizer));
    const rules = new Set(golden.cases.map((c) => JSON.stringify(c.rule)));
    expect(tokenizers.size).toBe(2);
    expect(rules.size).toBeGreaterThan(4);
    expect(golden.cases).toHaveLength(tokenizers.size * rules.size * texts.length);
  });

  it('the Unicode rule equals toklip.preprocess.canonicalize', () => {
    expect(golden.unicode.length).toBeGreaterThan(20);
    for (const c of golden.unicode) expect(canonicalize(c.text), JSON.stringify(c.text)).toBe(c.clean);
  });

  it('ids (bos/eos, truncation, padding side, byte fallback) equal TextRule.ids', () => {
    const tokenizers = new Map<string, unknown>();
    expect(new Set(golden.cases.map((c) => c.tokenizer)).size).toBe(2);
    for (const c of golden.cases) {
      if (!tokenizers.has(c.tokenizer)) tokenizers.set(c.tokenizer, readGolden<unknown>(c.tokenizer));
      const { clean_rule, ...rest } = c.rule;
      const t = new TextTokenizer(tokenizers.get(c.tokenizer), {
        ...rest,
        ...(clean_rule === 'big_vision' ? { clean_rule } : {}),
      });
      const label = `${c.tokenizer} ${JSON.stringify(c.rule)} ${JSON.stringify(c.text)}`;
      expect(t.clean(c.text), label).toBe(c.clean);
      expect(Array.from(t.encode(c.text)), label).toEqual(c.ids);
    }
  });
});

describe('bos/eos and padding side', () => {
  it('left padding puts the pads first; specials survive truncation', () => {
    const t = new TextTokenizer(wordLevel, {
      context_length: 5,
      pad_id: 0,
      bos_id: 3,
      eos_id: 4,
      padding_side: 'left',
    });
    expect(Array.from(t.encode('cat'))).toEqual([0, 0, 3, 5, 4]);
    expect(Array.from(t.encode('a a a a a a'))).toEqual([3, 2, 2, 2, 4]);
    expect(Array.from(t.encode(''))).toEqual([0, 0, 0, 3, 4]);
  });
});
