"""Text -> text-encoder input, without torch (the runner in toklip.runtime must work where torch is absent).

* TokLIP-Tiny's caption tokenizer: a HuggingFace `tokenizers` BPE trained on canonicalised captions, fed to
  ``text_encoder`` as ids (``text.input = "ids"``);
* the official layout's text rule (docs/CONTRACT.md, "Large models"): big_vision cleaning, bos/eos, padding
  side, and the rows of the token-embedding table (fp32/fp16/int8) fed as ``token_embeds``.

torch is imported only by :meth:`TextEncoderInput.__call__`, which the training code uses.
"""

from __future__ import annotations

import html
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

from .preprocess import canonicalize, pad_ids

if TYPE_CHECKING:
    import torch

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

    def array(self, texts: Sequence[str]) -> np.ndarray:
        """int32 [B, context_length], what ``text_encoder``'s ``input_ids`` takes."""
        return np.asarray([self.ids(t) for t in texts], dtype=np.int32).reshape(len(texts), self.context_length)

    def __call__(self, texts: Sequence[str]) -> "torch.Tensor":
        import torch

        return torch.tensor([self.ids(t) for t in texts], dtype=torch.int64)


# --------------------------------------------------------------------------------------------------
# Official layout: big_vision cleaning, special tokens and padding, the token-embedding table

_ASCII_PUNCT = str.maketrans("", "", string.punctuation)


def canonicalize_big_vision(text: str) -> str:
    """open_clip's ``canonicalize_text`` (from big_vision): '_' -> ' ', delete ASCII punctuation,
    lower-case, collapse whitespace, strip."""
    text = text.replace("_", " ").translate(_ASCII_PUNCT).lower()
    return " ".join(text.split())


def clean_open_clip(text: str) -> str:
    """What open_clip's ``HFTokenizer(clean='canonicalize')`` does to a SigLIP2 prompt: ``basic_clean``
    (``ftfy.fix_text``, ``html.unescape`` twice, strip) then :func:`canonicalize_big_vision`. ftfy
    straightens curly quotes, maps fullwidth forms to ASCII and splits Latin ligatures, so those change
    the ids."""
    import ftfy

    return canonicalize_big_vision(html.unescape(html.unescape(ftfy.fix_text(text))).strip())


@dataclass(frozen=True)
class TextRule:
    """How ids reach the text tower: clean -> encode without special tokens -> keep
    ``context_length - n_special`` ids -> [bos] ids [eos] -> pad to ``context_length`` on
    ``padding_side`` with ``pad_id`` (what HF ``padding='max_length', truncation=True`` does)."""

    context_length: int
    pad_id: int
    bos_id: int | None
    eos_id: int | None
    padding_side: str  # "right" | "left"
    clean_rule: str = "big_vision"

    @staticmethod
    def from_manifest(text: dict[str, Any]) -> "TextRule":
        """The manifest's ``text`` object; absent optional fields mean the contract's defaults (the Unicode
        rule, no bos/eos, right padding), so a TokLIP-Tiny manifest gives its rule too."""
        return TextRule(text["context_length"], text["pad_id"], text.get("bos_id"), text.get("eos_id"),
                        text.get("padding_side", "right"), text.get("clean_rule", "unicode"))

    def to_manifest(self) -> dict[str, Any]:
        return {"bos_id": self.bos_id, "eos_id": self.eos_id, "padding_side": self.padding_side,
                "clean_rule": self.clean_rule}

    def clean(self, text: str) -> str:
        if self.clean_rule == "big_vision":
            return clean_open_clip(text)
        return canonicalize(text)

    def ids(self, tok: Tokenizer, text: str) -> list[int]:
        clean = self.clean(text)
        body = tok.encode(clean, add_special_tokens=False).ids if clean else []
        n_special = (self.bos_id is not None) + (self.eos_id is not None)
        body = body[: max(self.context_length - n_special, 0)]
        ids = ([self.bos_id] if self.bos_id is not None else []) + body + ([self.eos_id] if self.eos_id is not None else [])
        ids = ids[: self.context_length]
        pad = [self.pad_id] * (self.context_length - len(ids))
        return pad + ids if self.padding_side == "left" else ids + pad

    def array(self, tok: Tokenizer, texts: Sequence[str]) -> np.ndarray:
        """int32 [B, context_length]."""
        return np.asarray([self.ids(tok, t) for t in texts], dtype=np.int32).reshape(len(texts), self.context_length)


def table_row_bytes(dtype: str, dim: int) -> int:
    return {"fp32": 4 * dim, "fp16": 2 * dim, "int8": 4 + dim}[dtype]


def gather_table_rows(path: Path, table: dict[str, Any], ids: np.ndarray) -> np.ndarray:
    """What the app does: ids [B, L] -> float32 [B, L, dim], reading only the rows it needs."""
    dim, dtype, rb = table["dim"], table["dtype"], table["row_bytes"]
    out = np.empty(ids.shape + (dim,), dtype=np.float32)
    with open(path, "rb") as fh:
        for idx in np.ndindex(ids.shape):
            fh.seek(int(ids[idx]) * rb)
            raw = fh.read(rb)
            if dtype == "fp32":
                out[idx] = np.frombuffer(raw, "<f4")
            elif dtype == "fp16":
                out[idx] = np.frombuffer(raw, "<f2").astype(np.float32)
            else:
                out[idx] = np.frombuffer(raw[4:], np.int8).astype(np.float32) * np.frombuffer(raw[:4], "<f4")[0]
    return out
