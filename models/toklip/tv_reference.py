"""torchvision's own transforms, as TokLIP's ``open_clip/transform.py`` builds them, for reference vectors.

The torchvision wheel that installs next to the CPU torch pin here has compiled ops built for another torch
build, and ``import torchvision`` fails while registering them (``operator torchvision::nms does not exist``).
The transforms used on PIL images are pure Python over Pillow and never touch those ops, so this module loads the
``torchvision`` package without running its ``__init__`` (which is what registers the ops) and imports only
``torchvision.transforms``. The code that runs is torchvision's, unmodified.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image


def transforms() -> Any:
    """The ``torchvision.transforms`` module (see the module docstring for how it is imported)."""
    if "torchvision.transforms" in sys.modules:
        return sys.modules["torchvision.transforms"]
    try:
        import torchvision.transforms as T  # noqa: PLC0415  (a working install: use it as it is)

        return T
    except Exception:  # noqa: BLE001  (the ops registration error described above)
        for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[name]
    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("torchvision is not installed (scripts/setup.sh installs torchvision==0.28.0)")
    pkg = types.ModuleType("torchvision")
    pkg.__path__ = list(spec.submodule_search_locations)
    pkg.__file__ = spec.origin
    sys.modules["torchvision"] = pkg
    import torchvision.transforms as T  # noqa: PLC0415

    return T


def official_transform(size: int, mean: tuple[float, float, float] = (0.5, 0.5, 0.5),
                       std: tuple[float, float, float] = (0.5, 0.5, 0.5), tensor: bool = True) -> Any:
    """open_clip ``image_transform(size, is_train=False)`` with TokLIP's defaults (bicubic, resize_mode "shortest",
    SigLIP mean/std 0.5): Resize(S) + CenterCrop(S) + convert('RGB') [+ ToTensor + Normalize]."""
    T = transforms()
    steps: list[Any] = [
        T.Resize(size, interpolation=T.InterpolationMode.BICUBIC),
        T.CenterCrop(size),
        lambda im: im.convert("RGB"),
    ]
    if tensor:
        steps += [T.ToTensor(), T.Normalize(mean=mean, std=std)]
    return T.Compose(steps)


def official_rgb(img: Image.Image, size: int) -> np.ndarray:
    """uint8 [S, S, 3]: what torchvision hands to ToTensor."""
    return np.asarray(official_transform(size, tensor=False)(img))


def official_tensor(img: Image.Image, size: int, mean: tuple[float, float, float] = (0.5, 0.5, 0.5),
                    std: tuple[float, float, float] = (0.5, 0.5, 0.5)) -> np.ndarray:
    """float32 [3, S, S]: the whole transform's output."""
    return official_transform(size, mean, std)(img).numpy()


def reference_ids(folder: str | Path, images: list[str | Path]) -> dict[str, list[int]]:
    """The VQ ids TokLIP's own pipeline gives a model folder's ``vq_encoder`` for each file: Pillow decode (EXIF
    applied, as the app does) → torchvision transform → onnxruntime (basic graph optimisation, the graph as
    written, as onnxruntime-web runs it)."""
    import onnxruntime as ort  # noqa: PLC0415

    from .preprocess import load_image  # noqa: PLC0415

    folder = Path(folder)
    m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    img = m["image"]
    path = next(f["path"] for f in m["files"] if f["role"] == "vq_encoder")
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    sess = ort.InferenceSession(str(folder / path), opts, providers=["CPUExecutionProvider"])
    out = {}
    for p in images:
        x = official_tensor(load_image(p), img["size"], tuple(img["mean"]), tuple(img["std"]))[None]
        ids = sess.run(None, {sess.get_inputs()[0].name: x})[0]
        out[Path(p).name] = [int(v) for v in np.asarray(ids).reshape(-1)]
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="VQ ids from TokLIP's own preprocessing (torchvision) + onnxruntime")
    ap.add_argument("--model", required=True, type=Path, help="model folder (manifest.json + vq_encoder graph)")
    ap.add_argument("images", nargs="+", type=Path, help="image files")
    args = ap.parse_args(argv)
    print(json.dumps(reference_ids(args.model, args.images)))


if __name__ == "__main__":
    main()
