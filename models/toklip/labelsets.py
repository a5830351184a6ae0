"""Label sets for zero-shot classification, taken from a maintained package's metadata (issue 12, item 4).

    python -m toklip.labelsets --out public/labelsets/imagenet-1k.json
    python -m toklip.labelsets --add-concepts models/data --bundle public/models/toklip-tiny

The second form writes the dataset's held-out concepts into an exported model folder's manifest (the optional
``concepts`` list that toklip-export writes when given ``--data``), for a folder exported before that field existed.

Writes the ImageNet-1k class names and the CLIP prompt templates as open_clip_torch ships them
(``open_clip/zero_shot_metadata.py``), with the package's name, version, licence and attribution, so the app
never carries a hand-typed copy. The templates are stored as format strings with ``{}`` where the class name
goes (open_clip keeps them as lambdas; each is called with ``"{}"``).

Only that one file of the package is read, loaded on its own: importing ``open_clip`` itself pulls in torch,
torchvision and timm, none of which the metadata needs (and ``--no-deps`` installs lack some of them).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

PACKAGE = "open_clip_torch"
MODULE_FILE = "zero_shot_metadata.py"
SCHEMA = "toklip-studio/labelset"


class LabelsetError(RuntimeError):
    pass


def _metadata_module() -> ModuleType:
    spec = importlib.util.find_spec("open_clip")
    if spec is None or not spec.submodule_search_locations:
        raise LabelsetError(f"{PACKAGE} is not installed (pip install --no-deps {PACKAGE})")
    path = Path(next(iter(spec.submodule_search_locations))) / MODULE_FILE
    mod_spec = importlib.util.spec_from_file_location("open_clip_zero_shot_metadata", path)
    if mod_spec is None or mod_spec.loader is None:
        raise LabelsetError(f"cannot load {path}")
    mod = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(mod)
    return mod


def _templates(fns: Any) -> list[str]:
    out = [str(f("{}")) for f in fns]
    for t in out:
        if t.count("{}") != 1:
            raise LabelsetError(f"template {t!r} does not take the class name exactly once")
    return out


def imagenet_labelset() -> dict[str, Any]:
    """The ImageNet-1k label set as written to JSON (every field read from the installed package)."""
    mod = _metadata_module()
    dist = importlib.metadata.distribution(PACKAGE)
    classes = [str(c) for c in mod.IMAGENET_CLASSNAMES]
    if len(classes) != 1000:
        raise LabelsetError(f"expected 1000 ImageNet class names, {PACKAGE} has {len(classes)}")
    meta = dist.metadata
    urls = [u.split(",", 1)[1].strip() for u in meta.get_all("Project-URL") or [] if "," in u]
    return {
        "schema": SCHEMA,
        "schema_version": 1,
        "id": "imagenet-1k",
        "name": "ImageNet-1k class names",
        "classes": classes,
        # Both of open_clip's template sets: the app picks one by cost (each template is one text-encoder row per
        # class), the 7 "simple" ones by default.
        "templates": {
            "simple": _templates(mod.SIMPLE_IMAGENET_TEMPLATES),
            "openai": _templates(mod.OPENAI_IMAGENET_TEMPLATES),
        },
        "source": {
            "package": PACKAGE,
            "version": dist.version,
            "module": f"open_clip/{MODULE_FILE}",
            "names": ["IMAGENET_CLASSNAMES", "SIMPLE_IMAGENET_TEMPLATES", "OPENAI_IMAGENET_TEMPLATES"],
            "license": meta.get("License") or "",
            "url": urls[0] if urls else "",
        },
        "attribution": (
            f"Class names and prompt templates from {PACKAGE} {dist.version} (OpenCLIP, MIT licence), which "
            "takes them from OpenAI CLIP's Prompt_Engineering_for_ImageNet notebook (MIT licence)."
        ),
    }


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m toklip.labelsets",
        description="Write the ImageNet-1k class names and CLIP prompt templates from open_clip_torch's "
        "metadata to a JSON label set for the app's zero-shot panel.",
    )
    p.add_argument("--out", type=Path, default=Path("public/labelsets/imagenet-1k.json"), help="JSON to write")
    p.add_argument("--check", action="store_true", help="only compare with --out; exit 1 if it differs")
    p.add_argument("--add-concepts", type=Path, metavar="DATA", help="dataset folder (pairs.jsonl) whose held-out "
                   "concepts go into --bundle's manifest.json instead")
    p.add_argument("--bundle", type=Path, help="model folder for --add-concepts")
    args = p.parse_args(argv)
    if args.add_concepts:
        if not args.bundle:
            p.error("--add-concepts needs --bundle")
        from .export import concepts_from_data
        from .manifest import write_manifest

        concepts = concepts_from_data(args.add_concepts)
        if not concepts:
            p.error(f"{args.add_concepts}/pairs.jsonl has no held-out concepts")
        path = args.bundle / "manifest.json"
        man = json.loads(path.read_text(encoding="utf-8"))
        man["concepts"] = concepts
        write_manifest(args.bundle, man)
        print(f"wrote {len(concepts)} concepts into {path}")
        return 0
    text = dumps(imagenet_labelset())
    if args.check:
        same = args.out.exists() and args.out.read_text(encoding="utf-8") == text
        print(f"{args.out}: {'up to date' if same else 'differs from ' + PACKAGE + ' metadata'}")
        return 0 if same else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
