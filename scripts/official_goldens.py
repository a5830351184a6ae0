"""Shared test vectors for the app's official-layout text front end and token-embedding table, written by
the Python toolkit so that the TypeScript units (src/lib/text.test.ts, src/lib/embeddingTable.test.ts)
compare against the exporter's own code rather than against numbers typed by hand.

    .venv/bin/python scripts/official_goldens.py [--tokenizer public/models/synthetic-official-fp32/tokenizer.json] [--out DIR]

The tokenizer is the synthetic Gemma-layout one that ``toklip-synth-official --depth shallow`` writes (its
folder is gitignored, so a copy is committed next to the vectors). A second copy gets the 256
``<0xNN>`` byte pieces SentencePiece/Gemma vocabularies carry, so byte fallback (emoji, unseen letters) is
exercised as in the real SigLIP2 tokenizer.

Writes src/lib/__golden__/official-tokenizer.json, official-tokenizer-bytes.json, official-text.json and
official-table.json (or the same names under --out; models/tests/test_golden_freshness.py does that and
compares them with the committed ones).
"""

from __future__ import annotations

import argparse
import base64
import json
import tempfile
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer

from toklip.export_official import gather_table_rows, table_row_bytes, write_embedding_table
import html

import ftfy

from toklip.official import TextRule, canonicalize_big_vision, clean_open_clip, prepare_tokenizer
from toklip.preprocess import canonicalize
from toklip.synthetic_official import build_gemma_style_json, shallow_config

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src/lib/__golden__"

TEXTS = [
    "a photo of a cat",
    "A Photo of a CAT!",
    "",
    "   ",
    "?!...",
    "snake_case_words and_more",
    "it's a dog-house (maybe) [really] {yes} <no>",
    "e-mail: a@b.c; 50% off #1 ~tilde~ `tick` |pipe| \\back/slash ^caret^ $5 & co + = * \"q\"",
    "café crème déjà vu naïve",
    "emoji 🐱 and 🚑 face 😀",
    "numbers 12345 and 6789 in 2024",
    "über ÆSIR İstanbul ΟΔΟΣ straße",
    "tabs\tand\nnewlines\r\nand\u00a0nbsp\u2003em\u3000ideo",
    "odd\x1fspaces\x85next\ufeffbom\u200bzw",
    "unicode punctuation — “quotes” ‘single’ … « » ¿¡ · • №5 ©®™ € £",
    "fullwidth ＡＢＣ！ and digits １２３ and ⅷ ² ½",
    "a car a tree a house a photo of the sun and a flower on a table with the numbers 12345 and 6789 "
    "plus an emoji of a smiling face and more words than fit in any context window at all",
    "the the the the the the the the the the the the the the the the the the",
    "___",
    "_a_b_",
    # open_clip's basic_clean (ftfy.fix_text + html.unescape twice) before canonicalize_text
    "it\u2019s a \u201cquoted\u201d \u2018word\u2019 and \u02bcmodifier\u201f",
    "&amp; &lt;b&gt; &quot;x&quot; &#39; &#x27; &eacute; &EACUTE; &NTILDE; &ampx &notit; &#128512; &#0; &#x80; "
    "&#xD800; &#1114112; &#99999999999999999999; &AMP; &Amp; &amp;amp;amp;amp; &#65",
    # a '<' stops ftfy's own unescaping, so these reach Python's html.unescape as written
    "<x> &ampx &notit; &not &#0; &#x80; &#xD800; &#1114112; &AMP &amp &#65 &#x41 &#X41; &lt&gt &fjlig; &NotEqualTilde; &amp;amp;amp; &",
    "first &amp; line\n<b>bold</b> &amp; &eacute;\nthird &amp; line",
    "\ufb01ne \ufb02our \u0133 \u01c4 \ufb06",
    "\uff76\uff80\uff76\uff85 halfwidth \uffe1 \uff5e \uffe8 \u3000ideo",
    "\x1b[31mred\x1b[0m \x1b[1;32mgreen\x1b[m",
    "e\u0301 n\u0303 combining A\u030a",
    "c1 \x80 euro \x93quoted\x94 \x81 \x8d",
    "controls \x00\x01\x0b\x7f \u206a \ufff9 \ufffc \ufeff end",
    "line\u2028sep\u2029para\r\ncrlf\rcr",
]

# Mojibake that ftfy's fix_encoding repairs: the app does not reproduce that step (src/lib/textFix.ts).
MOJIBAKE = ["caf\u00c3\u00a9 cr\u00c3\u00a8me", "\u00e2\u0080\u009cquoted\u00e2\u0080\u009d"]

RULES = [
    # what the shallow export writes (tokenizer_config of the synthetic folder: eos on, bos off, right)
    {"context_length": 16, "pad_id": 0, "bos_id": None, "eos_id": 1, "padding_side": "right",
     "clean_rule": "big_vision"},
    # HF Gemma defaults (add_bos, no eos, left padding)
    {"context_length": 16, "pad_id": 0, "bos_id": 2, "eos_id": None, "padding_side": "left",
     "clean_rule": "big_vision"},
    # both specials, a short context: truncation keeps context_length - 2 ids
    {"context_length": 8, "pad_id": 0, "bos_id": 2, "eos_id": 1, "padding_side": "left",
     "clean_rule": "big_vision"},
    {"context_length": 8, "pad_id": 0, "bos_id": 2, "eos_id": 1, "padding_side": "right",
     "clean_rule": "big_vision"},
    # no specials, the Unicode rule (clean_rule absent in the manifest)
    {"context_length": 12, "pad_id": 0, "bos_id": None, "eos_id": None, "padding_side": "right",
     "clean_rule": "canonicalize"},
    # context shorter than the specials
    {"context_length": 1, "pad_id": 0, "bos_id": 2, "eos_id": 1, "padding_side": "right",
     "clean_rule": "big_vision"},
]


def with_byte_pieces(tj: dict) -> dict:
    tj = json.loads(json.dumps(tj))
    vocab = tj["model"]["vocab"]
    nxt = max(vocab.values()) + 1
    for b in range(256):
        piece = f"<0x{b:02X}>"
        if piece not in vocab:
            vocab[piece] = nxt
            nxt += 1
    return tj


def text_vectors(tok_files: dict[str, Path]) -> dict:
    cases = []
    for name, path in tok_files.items():
        tok = Tokenizer.from_file(str(path))
        for rule in RULES:
            r = TextRule(**rule)
            for t in TEXTS:
                cases.append({"tokenizer": name, "rule": rule, "text": t, "clean": r.clean(t), "ids": r.ids(tok, t)})
    for t in TEXTS:  # the app skips ftfy's mojibake repair: these vectors must not need it
        assert ftfy.fix_text(t) == ftfy.fix_text(t, fix_encoding=False), f"{t!r} needs fix_encoding"
    for t in MOJIBAKE:
        assert ftfy.fix_text(t) != ftfy.fix_text(t, fix_encoding=False), f"{t!r} is not mojibake to ftfy"
    return {
        "generated_by": "scripts/official_goldens.py (toklip.official.TextRule, canonicalize_big_vision, "
                        f"clean_open_clip; ftfy {ftfy.__version__})",
        "big_vision": [{"text": t, "clean": canonicalize_big_vision(t)} for t in TEXTS],
        "open_clip": [{"text": t, "ftfy": ftfy.fix_text(t), "basic": html.unescape(html.unescape(ftfy.fix_text(t))),
                       "clean": clean_open_clip(t)} for t in TEXTS],
        "mojibake": [{"text": t, "ftfy": ftfy.fix_text(t), "ftfy_without_fix_encoding": ftfy.fix_text(t, fix_encoding=False)}
                     for t in MOJIBAKE],
        "unicode": [{"text": t, "clean": canonicalize(t)} for t in TEXTS],
        "cases": cases,
    }


def b64(a: np.ndarray | bytes) -> str:
    return base64.b64encode(a if isinstance(a, bytes) else a.tobytes()).decode("ascii")


def table_vectors() -> dict:
    g = torch.Generator().manual_seed(1234)
    rows, dim = 40, 12
    w = torch.randn(rows, dim, generator=g) * 0.05
    w[0] = 0.0  # an all-zero row (int8 scale falls back to 1)
    w[1] = torch.linspace(-70000.0, 70000.0, dim)  # beyond fp16's range: inf after the cast
    w[2] = torch.tensor([6e-8, -6e-8, 3e-5, -3e-5, 1e-7, 5.96e-8, 65504.0, -65504.0, 1.0, -2.0, 0.1, 1e-3])
    w[3] = torch.full((dim,), 3.0)
    ids = np.array([[0, 1, 2, 3, 39, 7], [5, 5, 38, 2, 0, 0]], dtype=np.int64)
    tables = []
    with tempfile.TemporaryDirectory() as tmp:
        for dtype in ("fp32", "fp16", "int8"):
            p = Path(tmp) / f"{dtype}.bin"
            write_embedding_table(w, p, dtype)
            spec = {"rows": rows, "dim": dim, "dtype": dtype, "row_bytes": table_row_bytes(dtype, dim),
                    "bytes": p.stat().st_size}
            out = gather_table_rows(p, spec, ids)
            tables.append({**spec, "table": b64(p.read_bytes()), "ids": ids.tolist(),
                           "expected_float32": b64(out.astype("<f4"))})
    return {"generated_by": "scripts/official_goldens.py (toklip.export_official.write_embedding_table, "
                            "gather_table_rows)", "tables": tables}


def synthetic_tokenizer_json() -> dict:
    """The tokenizer.json that ``toklip-synth-official --depth shallow --export`` writes, made by the same
    functions (build_gemma_style_json, then prepare_tokenizer at the shallow context length)."""
    with tempfile.TemporaryDirectory() as tmp:
        prepared = prepare_tokenizer(build_gemma_style_json(Path(tmp) / "tokenizer"),
                                     shallow_config().text.context_length)
        prepared.tokenizer.save(str(Path(tmp) / "tokenizer.json"))
        return json.loads((Path(tmp) / "tokenizer.json").read_text(encoding="utf-8"))


def write_all(out: Path, tj: dict) -> dict[str, Path]:
    """Writes the four files into ``out``; returns {path in the repository: written file}. The text cases
    name the tokenizers by their committed paths, wherever ``out`` is."""
    out.mkdir(parents=True, exist_ok=True)
    tokenizers = {"official-tokenizer.json": tj, "official-tokenizer-bytes.json": with_byte_pieces(tj)}
    written = {}
    for name, data in tokenizers.items():
        (out / name).write_text(json.dumps(data, ensure_ascii=False) + "\n", encoding="utf-8")
        written[f"src/lib/__golden__/{name}"] = out / name
    vec = text_vectors({rel: path for rel, path in written.items()})
    (out / "official-text.json").write_text(json.dumps(vec, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (out / "official-table.json").write_text(json.dumps(table_vectors(), indent=1) + "\n", encoding="utf-8")
    for name in ("official-text.json", "official-table.json"):
        written[f"src/lib/__golden__/{name}"] = out / name
    return written


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokenizer", type=Path, default=ROOT / "public/models/synthetic-official-fp32/tokenizer.json",
                    help="the exported synthetic tokenizer.json; rebuilt with the exporter's functions when absent")
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args(argv)
    if a.tokenizer.exists():
        tj = json.loads(a.tokenizer.read_text(encoding="utf-8"))
    else:
        print(f"{a.tokenizer} is absent: building the synthetic tokenizer")
        tj = synthetic_tokenizer_json()
    written = write_all(a.out, tj)
    print(f"wrote {', '.join(str(p) for p in written.values())}")


if __name__ == "__main__":
    main()
