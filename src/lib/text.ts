/**
 * Text side of the contract: the two cleaning rules (`canonicalize`, the Unicode rule of TokLIP-Tiny, and
 * `big_vision`, open_clip's SigLIP cleaner used by the official TokLIP), tokenisation with the model's
 * tokenizer.json through @huggingface/tokenizers without special tokens, then bos/eos, truncation to
 * context_length and padding on `padding_side` (docs/CONTRACT.md, "Text" and "Large models").
 */
import { Tokenizer } from '@huggingface/tokenizers';
import type { TextManifest } from './manifest';
import { openClipBasicClean } from './textFix';

const NOT_LETTER_NUMBER_SPACE = /[^\p{L}\p{N}\s]/gu;
const SPACES = /\s+/gu;

/** lower-case; non letter/number/whitespace → space; collapse whitespace runs; trim. */
export function canonicalize(text: string): string {
  return text.toLowerCase().replace(NOT_LETTER_NUMBER_SPACE, ' ').replace(SPACES, ' ').trim();
}

/** Python's `string.punctuation`: the 32 ASCII punctuation characters. */
const ASCII_PUNCTUATION = /[\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]/g;
/**
 * What Python's `str.split()` splits on (str.isspace). JS `\s` differs: it lacks U+001C–U+001F and U+0085
 * and has U+FEFF, which Python keeps as part of a word.
 */
// eslint-disable-next-line no-control-regex -- U+001C..U+001F are whitespace to Python
const PY_WHITESPACE = /[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;

/** open_clip's `canonicalize_text`: `_` → space, delete ASCII punctuation, lower-case, split, join with ' '. */
export function canonicalizeBigVision(text: string): string {
  return text
    .replace(/_/g, ' ')
    .replace(ASCII_PUNCTUATION, '')
    .toLowerCase()
    .split(PY_WHITESPACE)
    .filter((w) => w.length > 0)
    .join(' ');
}

export type CleanRule = 'canonicalize' | 'big_vision';

/**
 * `big_vision` is all of open_clip's `HFTokenizer(clean='canonicalize')`: ftfy, HTML unescaping (textFix.ts),
 * then `canonicalize_text`.
 */
export function cleanText(text: string, rule: CleanRule = 'canonicalize'): string {
  return rule === 'big_vision' ? canonicalizeBigVision(openClipBasicClean(text)) : canonicalize(text);
}

/** The manifest's `text` fields that decide the ids (absent optional fields: the TokLIP-Tiny behaviour). */
export type TextSpec = Pick<
  TextManifest,
  'context_length' | 'pad_id' | 'clean_rule' | 'bos_id' | 'eos_id' | 'padding_side'
>;

export class TextTokenizer {
  private readonly tokenizer: Tokenizer;
  readonly contextLength: number;
  readonly padId: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly paddingSide: 'left' | 'right';
  readonly cleanRule: CleanRule;

  constructor(tokenizerJson: unknown, spec: TextSpec) {
    if (typeof tokenizerJson !== 'object' || tokenizerJson === null) {
      throw new TypeError('tokenizer.json: expected a JSON object');
    }
    // tokenizers.js reads a WordLevel model's unk token from the config object, not from the model section.
    const model = (tokenizerJson as { model?: { unk_token?: unknown } }).model;
    const config = typeof model?.unk_token === 'string' ? { unk_token: model.unk_token } : {};
    this.tokenizer = new Tokenizer(tokenizerJson, config);
    this.contextLength = spec.context_length;
    this.padId = spec.pad_id;
    this.bosId = spec.bos_id ?? null;
    this.eosId = spec.eos_id ?? null;
    this.paddingSide = spec.padding_side ?? 'right';
    this.cleanRule = spec.clean_rule === 'big_vision' ? 'big_vision' : 'canonicalize';
  }

  clean(text: string): string {
    return cleanText(text, this.cleanRule);
  }

  /** Ids of the cleaned text, no special tokens, before truncation/padding. */
  rawIds(text: string): number[] {
    const clean = this.clean(text);
    if (clean.length === 0) return [];
    const { ids, tokens } = this.tokenizer.encode(clean, { add_special_tokens: false });
    ids.forEach((id, i) => {
      if (!Number.isInteger(id))
        throw new Error(`tokenizer: token ${JSON.stringify(tokens[i])} has no id (no unk token)`);
    });
    return ids;
  }

  /**
   * context_length ids: the first context_length − n_special text ids between bos and eos (each only when
   * set), padded with pad_id on padding_side — HF `truncation=True, padding='max_length'`.
   */
  encode(text: string): Int32Array {
    const L = this.contextLength;
    const special = [this.bosId, this.eosId].filter((x) => x !== null).length;
    const body = this.rawIds(text).slice(0, Math.max(L - special, 0));
    const ids = [
      ...(this.bosId !== null ? [this.bosId] : []),
      ...body,
      ...(this.eosId !== null ? [this.eosId] : []),
    ].slice(0, L);
    const out = new Int32Array(L).fill(this.padId);
    out.set(ids, this.paddingSide === 'left' ? L - ids.length : 0);
    return out;
  }

  /** [n, context_length] ids for a batch of prompts. */
  encodeBatch(texts: readonly string[]): Int32Array {
    const out = new Int32Array(texts.length * this.contextLength);
    texts.forEach((t, i) => out.set(this.encode(t), i * this.contextLength));
    return out;
  }
}
