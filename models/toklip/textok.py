"""Caption tokenizer: a HuggingFace `tokenizers` BPE trained on canonicalised captions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import torch
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

from .preprocess import canonicalize, pad_ids

SPECIALS = ["<pad>", "<unk>"]


def train_tokenizer(captions: Iterable[str], vocab_size: int, out: Path) -> Tokenizer:
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    # Canonicalised text only holds letters, digits and single spaces, so splitting on whitespace is
    # all the pre-tokenisation needed (and what the TS side must reproduce).
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIALS, min_frequency=1, show_progress=False)
    tok.train_from_iterator((canonicalize(c) for c in captions), trainer=trainer)
    assert tok.token_to_id("<pad>") == 0
    out.parent.mkdir(parents=True, exist_ok=True)
    tok.save(str(out))
    return tok


class TextEncoderInput:
    """canonicalize -> encode (no special tokens) -> truncate/right-pad, as the contract says."""

    def __init__(self, tokenizer: Tokenizer, context_length: int, pad_id: int = 0) -> None:
        self.tok = tokenizer
        self.context_length = context_length
        self.pad_id = pad_id

    @staticmethod
    def load(path: Path, context_length: int, pad_id: int = 0) -> "TextEncoderInput":
        return TextEncoderInput(Tokenizer.from_file(str(path)), context_length, pad_id)

    def ids(self, text: str) -> list[int]:
        enc = self.tok.encode(canonicalize(text), add_special_tokens=False)
        return pad_ids(enc.ids, self.context_length, self.pad_id)

    def __call__(self, texts: Sequence[str]) -> torch.Tensor:
        return torch.tensor([self.ids(t) for t in texts], dtype=torch.int64)
