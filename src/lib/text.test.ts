import { describe, expect, it } from 'vitest';
import { canonicalize, TextTokenizer } from './text';
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
