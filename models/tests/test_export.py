import json
from pathlib import Path

import numpy as np
import pytest
import torch

from toklip.export import export_bundle
from toklip.manifest import ManifestError, refresh_manifest, validate_manifest
from toklip.model import PixelCLIP, TokLIP
from toklip.runtime import Bundle
from toklip.textok import train_tokenizer

from helpers import micro_config


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TokLIP, PixelCLIP]:
    torch.manual_seed(0)
    cfg = micro_config()
    model, teacher = TokLIP(cfg).eval(), PixelCLIP(cfg).eval()
    tmp = tmp_path_factory.mktemp("bundle")
    tok = train_tokenizer(["a photo of a cat", "a red apple", "the sun and the moon"] * 5, 512, tmp / "tok" / "tokenizer.json")
    assert tok.get_vocab_size() <= cfg.text.vocab_size
    out = tmp / "micro"
    export_bundle(model, teacher, tmp / "tok" / "tokenizer.json", out, display_name="Micro", description="test",
                  data=None, training={"random_init": True})
    return out, model, teacher


def test_manifest_matches_files(bundle: tuple[Path, TokLIP, PixelCLIP]) -> None:
    out, model, _ = bundle
    m = json.loads((out / "manifest.json").read_text())
    validate_manifest(m, out)
    roles = {f["role"] for f in m["files"]}
    assert {"vq_encoder", "vq_decoder", "semantic_encoder", "text_encoder", "teacher_image_encoder", "tokenizer", "codebook"} <= roles
    assert m["grid"] == {"h": model.cfg.grid, "w": model.cfg.grid}
    assert m["logit_scale"] == pytest.approx(float(np.exp(model.logit_scale.item())))
    # micro_config names no preprocessing (like a v1 checkpoint): the exporter still writes the only mode there is.
    assert m["image"]["preprocessing"] == "official_toklip"


def test_onnx_matches_pytorch(bundle: tuple[Path, TokLIP, PixelCLIP]) -> None:
    out, model, teacher = bundle
    b = Bundle(out)
    torch.manual_seed(1)
    x = torch.randn(3, 3, 32, 32)
    ids = b.tokenize(x.numpy())
    with torch.no_grad():
        ref_ids = model.trunk.vq.encode_ids(x).numpy()
        ref_emb = model.encode_ids(torch.from_numpy(ref_ids)).numpy()
        ref_rec = (model.trunk.vq.decode_ids(torch.from_numpy(ref_ids)) * 0.5 + 0.5).clamp(0, 1).numpy()
        ref_tea = teacher.encode_image(x).numpy()
        ref_txt = model.encode_text(b.textin(["a photo of a cat", "the sun"])).numpy()
    assert ids.dtype == np.int32
    np.testing.assert_array_equal(ids, ref_ids)
    emb = b.embed_ids(ids)
    assert (np.sum(emb * ref_emb, 1) >= 0.9999).all()
    np.testing.assert_allclose(b.decode(ids), ref_rec, atol=1e-4)
    assert (np.sum(b.embed_teacher(x.numpy()) * ref_tea, 1) >= 0.9999).all()
    assert (np.sum(b.embed_text(["a photo of a cat", "the sun"]) * ref_txt, 1) >= 0.9999).all()
    cb = b.codebook
    np.testing.assert_allclose(np.linalg.norm(cb, axis=1), 1.0, atol=1e-5)


def test_tampered_file_is_named(bundle: tuple[Path, TokLIP, PixelCLIP], tmp_path: Path) -> None:
    out, _, _ = bundle
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    data = bytearray((copy / "codebook.bin").read_bytes())
    data[0] ^= 0xFF
    (copy / "codebook.bin").write_bytes(bytes(data))
    with pytest.raises(ManifestError, match="codebook.bin: sha256 mismatch"):
        validate_manifest(json.loads((copy / "manifest.json").read_text()), copy)
    refresh_manifest(copy)  # re-hashing accepts the new bytes
    validate_manifest(json.loads((copy / "manifest.json").read_text()), copy)


def test_manifest_validation_messages(bundle: tuple[Path, TokLIP, PixelCLIP]) -> None:
    out, _, _ = bundle
    m = json.loads((out / "manifest.json").read_text())
    bad = dict(m, schema_version=2)
    with pytest.raises(ManifestError, match="schema_version"):
        validate_manifest(bad)
    bad = dict(m, grid={"h": 3, "w": 3})
    with pytest.raises(ManifestError, match="grid"):
        validate_manifest(bad)
    bad = dict(m, files=[f for f in m["files"] if f["role"] != "vq_decoder"])
    with pytest.raises(ManifestError, match="vq_decoder"):
        validate_manifest(bad)
    v1_image = {k: m["image"][k] for k in ("size", "mean", "std")}
    v1_image.update(resize="center_crop_then_resize", interpolation="triangle_antialias", alpha_background=[255] * 3)
    with pytest.raises(ManifestError, match="legacy TokLIP-Tiny v1 preprocessing, no longer supported: re-export"):
        validate_manifest(dict(m, image=v1_image))
