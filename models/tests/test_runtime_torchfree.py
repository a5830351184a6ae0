"""The reference runner (``python -m toklip.runtime``) in an environment without torch.

The subprocess gets a ``sys.meta_path`` finder that refuses ``torch`` and ``torchvision`` (and their submodules)
before anything else is imported, so any import of them on the runner's path fails as it would where they are
not installed. Its JSON must equal the in-process runner's (same ids, embeddings within 1e-6), on the committed
TokLIP-Tiny (also checked against its committed goldens) and on shallow synthetic official-layout folders (text
fed as rows of an fp32/fp16/int8 embedding table; also checked against the PyTorch model they were exported from).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

import toklip
from toklip.export_official import export_official
from toklip.model import TokLIP
from toklip.official import PreparedTokenizer, prepare_tokenizer
from toklip.runtime import Bundle, run_images
from toklip.synthetic_official import build_gemma_style_json, random_model, shallow_config

MODELS = Path(toklip.__file__).resolve().parents[1]  # the models/ folder whose toklip is under test
ROOT = MODELS.parent
TINY = ROOT / "public/models/toklip-tiny"
FIXTURES = ROOT / "e2e/fixtures/toklip-tiny"

BLOCKED = ("torch", "torchvision")
# Installed first thing in the child; refuses to start if something (a .pth file, sitecustomize) already
# imported torch, since then blocking later imports would prove nothing.
BLOCKER = f"""
import sys
BLOCKED = {BLOCKED!r}
early = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
if early:
    sys.exit("already imported before the blocker: " + ", ".join(early))
class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked: this environment has no torch)", name=name)
        return None
sys.meta_path.insert(0, NoTorch())
"""
RUN_RUNTIME = BLOCKER + """
import runpy
sys.argv = ["toklip.runtime"] + sys.argv[1:]
runpy.run_module("toklip.runtime", run_name="__main__", alter_sys=True)
"""

PROMPTS = ["a photo of a cat", "A_Photo of a DOG!!", "café crème \U0001f600 #1", "It\u2019s a \u201cCAT\u201d &amp; \uff24\uff2f\uff27",
           "a car a tree a house a photo of the sun and a flower on a table with more words than fit in the context", ""]


def no_torch(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(MODELS)}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=300)


def run_cli_without_torch(folder: Path, images: list[Path], prompts: list[str] | None) -> dict[str, Any]:
    args = ["--model", str(folder), "--json"]
    for p in images:
        args += ["--image", str(p)]
    for t in prompts or []:
        args += ["--prompt", t]
    r = no_torch(RUN_RUNTIME, *args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def assert_same(child: dict[str, Any], ref: dict[str, Any]) -> None:
    assert child["model"] == ref["model"]
    assert child["prompts"] == ref["prompts"]  # texts and their ids
    assert [i["path"] for i in child["images"]] == [i["path"] for i in ref["images"]]
    for c, r in zip(child["images"], ref["images"]):
        assert c["ids"] == r["ids"], c["path"]
        for k in ("embedding", "cosines", "probabilities"):
            np.testing.assert_allclose(c[k], r[k], rtol=0, atol=1e-6, err_msg=f"{c['path']} {k}")


# ------------------------------------------------------------------------------------------ the blocker


def test_blocker_blocks_torch() -> None:
    assert importlib.util.find_spec("torch") is not None  # torch is installed here: only the blocker removes it
    for mod in ("torch", "torch.nn", "torchvision", "torchvision.transforms"):
        r = no_torch(BLOCKER + f"import {mod}")
        assert r.returncode != 0 and "ModuleNotFoundError" in r.stderr and "blocked" in r.stderr, (mod, r.stderr)
    # A torch-dependent toklip module fails there, so a runner that still imported one could not pass.
    r = no_torch(BLOCKER + "import toklip.model")
    assert r.returncode != 0 and "blocked" in r.stderr, r.stderr
    r = no_torch(BLOCKER + "import toklip.runtime, sys; print(sorted(m for m in sys.modules if m.startswith('torch')))")
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stderr


def test_cli_help_without_torch() -> None:
    r = no_torch(RUN_RUNTIME, "--help")
    assert r.returncode == 0, r.stderr
    for opt in ("--model", "--image", "--prompt", "--json"):
        assert opt in r.stdout


# ------------------------------------------------------------------------------------------ TokLIP-Tiny


def test_tiny_without_torch_matches_in_process_and_goldens() -> None:
    golden = json.loads((FIXTURES / "golden.json").read_text())
    images = [FIXTURES / e["file"] for e in golden["images"]]
    child = run_cli_without_torch(TINY, images, None)  # no --prompt: the manifest's default prompts
    b = Bundle(TINY)
    assert_same(child, run_images(b, images, list(b.manifest["default_prompts"])))
    # The goldens (toklip-golden, which the app's e2e checks against) are an independent record.
    assert [p["text"] for p in child["prompts"]] == golden["prompts"]
    for c, g in zip(child["images"], golden["images"]):
        assert c["ids"] == g["ids"], g["file"]
        np.testing.assert_allclose(c["embedding"], g["embedding"], rtol=0, atol=1e-5)
        np.testing.assert_allclose(c["cosines"], g["cosines"], rtol=0, atol=1e-5)
    # Prompts given on the command line, through TokLIP-Tiny's text rule.
    child = run_cli_without_torch(TINY, images[:1], PROMPTS)
    assert_same(child, run_images(b, images[:1], PROMPTS))
    assert [p["ids"] for p in child["prompts"]] == [b.textin.ids(t) for t in PROMPTS]


# ------------------------------------------------------------------------------------------ official layout


@pytest.fixture(scope="module")
def official(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TokLIP, PreparedTokenizer, list[Path]]:
    tmp = tmp_path_factory.mktemp("official-runtime")
    cfg = shallow_config()
    model = random_model(cfg, seed=3)
    prepared = prepare_tokenizer(build_gemma_style_json(tmp / "tok"), cfg.text.context_length)
    export_official(model, prepared, tmp / "out", ["fp32", "fp16", "int8"], model_id="shallow", display_name="Shallow",
                    shard_bytes=200_000, external_threshold=300_000, verify=False, log=lambda *_: None)
    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, (90, 70, 4), dtype=np.uint8)  # not square, partly transparent
    Image.fromarray(rgba, "RGBA").save(tmp / "noise-rgba.png")
    images = [FIXTURES / "photo-gcompris-babyshapes-dog2-dog2.png", FIXTURES / "emoji-1f691.png", tmp / "noise-rgba.png"]
    return tmp / "out", model, prepared, images


@pytest.mark.parametrize("dtype", ["fp32", "fp16", "int8"])
def test_official_layout_without_torch(official: tuple[Path, TokLIP, PreparedTokenizer, list[Path]], dtype: str) -> None:
    out, model, prepared, images = official
    folder = out / f"shallow-{dtype}"
    b = Bundle(folder)
    assert b.text_input == "embeddings" and b.table is not None and b.table["dtype"] == dtype
    child = run_cli_without_torch(folder, images, PROMPTS)
    assert_same(child, run_images(b, images, PROMPTS))

    # Against the PyTorch model the folder was exported from, on the runner's own pixels and text ids.
    pixels = torch.from_numpy(np.stack([b.preprocess_path(p) for p in images]))
    tids = [prepared.rule.ids(prepared.tokenizer, t) for t in PROMPTS]
    assert [p["ids"] for p in child["prompts"]] == tids
    with torch.no_grad():
        ids = model.trunk.vq.encode_ids(pixels)
        emb = model.encode_ids(ids).numpy()
        txt = model.encode_text(torch.tensor(tids)).numpy()
    assert [c["ids"] for c in child["images"]] == ids.tolist()  # the VQ encoder is fp32 in every variant
    floor = 0.9999 if dtype == "fp32" else 0.999
    sem = np.sum(np.array([c["embedding"] for c in child["images"]]) * emb, 1)
    assert sem.min() >= floor, sem
    cos = np.array([c["cosines"] for c in child["images"]])
    assert np.abs(cos - emb @ txt.T).max() < (1e-4 if dtype == "fp32" else 5e-3)
