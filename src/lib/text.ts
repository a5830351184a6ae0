/**
 * Text side of the contract: `canonicalize` (the SigLIP cleaner) and tokenisation with the model's
 * tokenizer.json through @huggingface/tokenizers, without special tokens, truncated to context_length and
 * right-padded with pad_id.
 */
import { Tokenizer } from '@huggingface/tokenizers';

const NOT_LETTER_NUMBER_SPACE = /[^\p{L}\p{N}\s]/gu;
const SPACES = /\s+/gu;

/** lower-case; non letter/number/whitespace → space; collapse whitespace runs; trim. */
export function canonicalize(text: string): string {
  return text.toLowerCase().replace(NOT_LETTER_NUMBER_SPACE, ' ').replace(SPACES, ' ').trim();
}

export interface TextSpec {
  context_length: number;
  pad_id: number;
}

export class TextTokenizer {
  private readonly tokenizer: Tokenizer;
  readonly contextLength: number;
  readonly padId: number;

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
  }

  /** Ids of the canonicalised text before truncation/padding. */
  rawIds(text: string): number[] {
    const clean = canonicalize(text);
    if (clean.length === 0) return [];
    const { ids, tokens } = this.tokenizer.encode(clean, { add_special_tokens: false });
    ids.forEach((id, i) => {
      if (!Number.isInteger(id))
        throw new Error(`tokenizer: token ${JSON.stringify(tokens[i])} has no id (no unk token)`);
    });
    return ids;
  }

  /** context_length ids: truncated, right-padded with pad_id. */
  encode(text: string): Int32Array {
    const ids = this.rawIds(text);
    const out = new Int32Array(this.contextLength).fill(this.padId);
    out.set(ids.slice(0, this.contextLength));
    return out;
  }

  /** [n, context_length] ids for a batch of prompts. */
  encodeBatch(texts: readonly string[]): Int32Array {
    const out = new Int32Array(texts.length * this.contextLength);
    texts.forEach((t, i) => out.set(this.encode(t), i * this.contextLength));
    return out;
  }
}
