"""Run a model folder with onnxruntime exactly as the app does (manifest-driven)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from .manifest import validate_manifest
from .textok import TextEncoderInput


class Bundle:
    def __init__(self, folder: Path, threads: int = 0, verify: bool = True) -> None:
        self.folder = folder
        self.manifest: dict[str, Any] = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        validate_manifest(self.manifest, folder if verify else None)
        self.files = {f["role"]: folder / f["path"] for f in self.manifest["files"]}
        self.opts = ort.SessionOptions()
        if threads:
            self.opts.intra_op_num_threads = threads
        self._sessions: dict[str, ort.InferenceSession] = {}
        t = self.manifest["text"]
        self.textin = TextEncoderInput.load(self.files["tokenizer"], t["context_length"], t["pad_id"])
        img = self.manifest["image"]
        self.size, self.mean, self.std = img["size"], img["mean"], img["std"]
        cb = self.manifest["codebook"]
        self.codebook = np.frombuffer(self.files["codebook"].read_bytes(), dtype="<f4").reshape(cb["size"], cb["dim"])

    def session(self, role: str) -> ort.InferenceSession:
        if role not in self._sessions:
            self._sessions[role] = ort.InferenceSession(str(self.files[role]), self.opts, providers=["CPUExecutionProvider"])
        return self._sessions[role]

    def _batched(self, role: str, name: str, x: np.ndarray, batch: int = 32) -> np.ndarray:
        s = self.session(role)
        return np.concatenate([s.run(None, {name: x[i : i + batch]})[0] for i in range(0, len(x), batch)])

    def tokenize(self, pixels: np.ndarray) -> np.ndarray:
        return self._batched("vq_encoder", "pixels", pixels.astype(np.float32))

    def decode(self, ids: np.ndarray) -> np.ndarray:
        return self._batched("vq_decoder", "ids", ids.astype(np.int32))

    def embed_ids(self, ids: np.ndarray) -> np.ndarray:
        return self._batched("semantic_encoder", "ids", ids.astype(np.int32))

    def embed_teacher(self, pixels: np.ndarray) -> np.ndarray:
        return self._batched("teacher_image_encoder", "pixels", pixels.astype(np.float32))

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        ids = self.textin(texts).numpy().astype(np.int32)
        return self._batched("text_encoder", "input_ids", ids)

    def probability(self, cos: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(self.manifest["logit_scale"] * cos + self.manifest["logit_bias"])))
