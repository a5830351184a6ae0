"""Run a model folder with onnxruntime exactly as the app does (manifest-driven), without torch.

Needs only numpy, Pillow, onnxruntime and tokenizers (plus ftfy for folders whose ``text.clean_rule`` is
``big_vision``, i.e. the official layout). Handles both text layouts of docs/CONTRACT.md: ``text.input = "ids"``
(TokLIP-Tiny) and ``"embeddings"`` (official TokLIP: big_vision cleaning, bos/eos, padding side, rows of the
fp32/fp16/int8 token-embedding table, ONNX external-data shards).

    python -m toklip.runtime --model public/models/toklip-tiny --image a.png --prompt "a photo of a cat" --json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from .manifest import ManifestError, validate_manifest
from .preprocess import preprocess_image
from .textok import TextEncoderInput, TextRule, gather_table_rows

TEXT_INPUTS = ("ids", "embeddings")
OPTIMIZATION = {"disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL, "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
                "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED, "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL}


class Bundle:
    """``optimization``: onnxruntime's graph optimisation level (a key of :data:`OPTIMIZATION`). ``None``: "basic"
    for official-layout folders, because from "extended" on the CPU provider rewrites int8
    DequantizeLinear+MatMul into MatMulNBits with int8 *activations* (~3e-3 off the graph as written, which is
    what onnxruntime-web runs and what the export's parity and the e2e reference use); onnxruntime's default
    otherwise (what TokLIP-Tiny's goldens were computed with)."""

    def __init__(self, folder: Path, threads: int = 0, verify: bool = True, optimization: str | None = None,
                 batch: int = 32) -> None:
        self.folder = Path(folder)
        self.manifest: dict[str, Any] = json.loads((self.folder / "manifest.json").read_text(encoding="utf-8"))
        validate_manifest(self.manifest, self.folder if verify else None)
        self.files = {f["role"]: self.folder / f["path"] for f in self.manifest["files"]}
        t = self.manifest["text"]
        self.text_input: str = t.get("input", "ids")
        if self.text_input not in TEXT_INPUTS:
            raise ManifestError(f"text.input must be one of {TEXT_INPUTS}, got {self.text_input!r}")
        self.opts = ort.SessionOptions()
        self.opts.log_severity_level = 3  # errors only: the fp16 graphs' constant-folding warnings are noise on stderr
        if threads:
            self.opts.intra_op_num_threads = threads
        if optimization is None and self.text_input == "embeddings":
            optimization = "basic"
        if optimization is not None:
            self.opts.graph_optimization_level = OPTIMIZATION[optimization]
        self.batch = batch
        self._sessions: dict[str, ort.InferenceSession] = {}
        self.tokenizer = Tokenizer.from_file(str(self.files["tokenizer"]))
        self.text_rule = TextRule.from_manifest(t)
        # TokLIP-Tiny's own front end (golden.py and the training-side tests use it); the official rule needs
        # bos/eos/padding side and the embedding table, so folders of that layout have none.
        self.textin = TextEncoderInput(self.tokenizer, t["context_length"], t["pad_id"]) if self.text_input == "ids" else None
        self.table: dict[str, Any] | None = t.get("embedding_table") if self.text_input == "embeddings" else None
        if self.text_input == "embeddings" and not self.table:
            raise ManifestError("text.input is 'embeddings' but text.embedding_table is missing")
        img = self.manifest["image"]
        self.size, self.mean, self.std = img["size"], img["mean"], img["std"]
        cb = self.manifest["codebook"]
        self.codebook = np.frombuffer(self.files["codebook"].read_bytes(), dtype="<f4").reshape(cb["size"], cb["dim"])

    def session(self, role: str) -> ort.InferenceSession:
        if role not in self._sessions:
            # External-data shards are found next to the graph, by the names written inside it.
            self._sessions[role] = ort.InferenceSession(str(self.files[role]), self.opts, providers=["CPUExecutionProvider"])
        return self._sessions[role]

    def _batched(self, role: str, name: str, x: np.ndarray, batch: int | None = None) -> np.ndarray:
        s = self.session(role)
        n = batch or self.batch
        return np.concatenate([s.run(None, {name: x[i : i + n]})[0] for i in range(0, len(x), n)])

    def preprocess_path(self, path: str | Path) -> np.ndarray:
        """An image file -> float32 [3, size, size], the ``pixels`` the VQ encoder takes (the one place the
        runner turns a file into pixels)."""
        return preprocess_image(path, self.manifest["image"])

    def tokenize(self, pixels: np.ndarray) -> np.ndarray:
        return self._batched("vq_encoder", "pixels", pixels.astype(np.float32))

    def decode(self, ids: np.ndarray) -> np.ndarray:
        return self._batched("vq_decoder", "ids", ids.astype(np.int32))

    def embed_ids(self, ids: np.ndarray) -> np.ndarray:
        return self._batched("semantic_encoder", "ids", ids.astype(np.int32))

    def embed_teacher(self, pixels: np.ndarray) -> np.ndarray:
        return self._batched("teacher_image_encoder", "pixels", pixels.astype(np.float32))

    def text_ids(self, texts: Sequence[str]) -> np.ndarray:
        """int32 [B, context_length]: the manifest's text rule applied to each prompt."""
        if self.textin is not None:
            return self.textin.array(texts)
        return self.text_rule.array(self.tokenizer, texts)

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        ids = self.text_ids(texts)
        if self.table is None:
            return self._batched("text_encoder", "input_ids", ids)
        rows = gather_table_rows(self.folder / self.table["path"], self.table, ids)
        return self._batched("text_encoder", "token_embeds", rows)

    def probability(self, cos: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(self.manifest["logit_scale"] * cos + self.manifest["logit_bias"])))


def run_images(b: Bundle, images: Sequence[str | Path], prompts: Sequence[str]) -> dict[str, Any]:
    """What the CLI prints: per image its VQ ids [h][w], semantic embedding, and per prompt the cosine and
    the sigmoid probability; plus each prompt's text ids."""
    pixels = np.stack([b.preprocess_path(p) for p in images]) if images else np.zeros((0, 3, b.size, b.size), np.float32)
    ids = b.tokenize(pixels) if len(images) else np.zeros((0, b.manifest["grid"]["h"], b.manifest["grid"]["w"]), np.int32)
    emb = b.embed_ids(ids) if len(images) else np.zeros((0, b.manifest["embed_dim"]), np.float32)
    txt = b.embed_text(prompts) if prompts else np.zeros((0, b.manifest["embed_dim"]), np.float32)
    cos = emb @ txt.T
    m = b.manifest
    return {
        "model": {"id": m["id"], "folder": str(b.folder), "text_input": b.text_input, "image_size": b.size,
                  "grid": m["grid"], "codebook_size": m["codebook"]["size"], "embed_dim": m["embed_dim"],
                  "variant": (m.get("variant") or {}).get("dtype")},
        "prompts": [{"text": p, "ids": i} for p, i in zip(prompts, b.text_ids(prompts).tolist() if prompts else [])],
        "images": [{"path": str(p), "ids": ids[k].tolist(), "embedding": emb[k].tolist(), "cosines": cos[k].tolist(),
                    "probabilities": b.probability(cos[k]).tolist()} for k, p in enumerate(images)],
    }


def _text_report(r: dict[str, Any]) -> str:
    lines = [f"model {r['model']['id']} ({r['model']['folder']}), grid {r['model']['grid']['h']}x{r['model']['grid']['w']}"]
    for im in r["images"]:
        lines.append(f"\n{im['path']}")
        lines += ["  " + " ".join(f"{v:5d}" for v in row) for row in im["ids"]]
        order = sorted(range(len(im["cosines"])), key=lambda k: -im["cosines"][k])
        lines += [f"  {im['cosines'][k]:+.4f}  p={im['probabilities'][k]:.4f}  {r['prompts'][k]['text']}" for k in order]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="python -m toklip.runtime", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run a TokLIP Studio model folder with onnxruntime as the app does (no torch needed): VQ ids, "
                    "semantic embedding and prompt cosines/probabilities for each image.",
        epilog="JSON (--json): {model: {id, folder, text_input, image_size, grid: {h, w}, codebook_size, embed_dim, "
               "variant}, prompts: [{text, ids}], images: [{path, ids: [h][w] ints, embedding: [embed_dim], "
               "cosines: [per prompt], probabilities: [per prompt]}]}")
    ap.add_argument("--model", type=Path, required=True, help="model folder (holds manifest.json)")
    ap.add_argument("--image", action="append", default=[], metavar="PATH", help="an image file; repeat for more")
    ap.add_argument("--prompt", action="append", default=None, metavar="TEXT",
                    help="a prompt; repeat for more (default: the manifest's default_prompts)")
    ap.add_argument("--json", action="store_true", help="print JSON (else a short text report)")
    ap.add_argument("--threads", type=int, default=0, help="onnxruntime intra-op threads (0: its default)")
    ap.add_argument("--batch", type=int, default=32, help="images or prompts per graph run (default %(default)s)")
    ap.add_argument("--optimization", choices=sorted(OPTIMIZATION), default=None,
                    help="onnxruntime graph optimisation level (default: basic for official-layout folders, "
                         "onnxruntime's default otherwise)")
    ap.add_argument("--no-verify", action="store_true", help="skip checking each file's size and sha256")
    a = ap.parse_args(argv)
    if a.batch < 1:
        ap.error("--batch must be at least 1")
    try:
        b = Bundle(a.model, threads=a.threads, verify=not a.no_verify, optimization=a.optimization, batch=a.batch)
    except (OSError, ManifestError, KeyError) as e:
        print(f"error: {a.model}: {e}", file=sys.stderr)
        raise SystemExit(2) from e
    prompts = list(b.manifest.get("default_prompts") or []) if a.prompt is None else a.prompt
    try:
        r = run_images(b, a.image, prompts)
    except OSError as e:  # a missing or undecodable image (PIL's UnidentifiedImageError is an OSError)
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(2) from e
    print(json.dumps(r) if a.json else _text_report(r))


if __name__ == "__main__":
    main()
