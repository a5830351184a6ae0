"""The whole recipe on synthetic data: train (smoke) -> export -> eval -> golden fixtures."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from toklip.evaluate import evaluate, main as eval_main
from toklip.export import load_checkpoint, main as export_main
from toklip.golden import write_golden
from toklip.preprocess import preprocess_image
from toklip.textok import TextEncoderInput
from toklip.train import run_recipe

REQUIRED = ["psnr_db", "ssim", "codebook_usage", "perplexity", "toklip_t2i_r1", "toklip_i2t_r1", "teacher_t2i_r1",
            "teacher_i2t_r1", "train_minutes", "psnr_n_images", "retrieval_n_concepts"]


def test_smoke_recipe_end_to_end(synthetic_data: Path, tmp_path: Path) -> None:
    final = run_recipe(synthetic_data, tmp_path / "run", smoke=True, seed=0, threads=2)
    bundle = tmp_path / "bundle"
    export_main(["--checkpoint", str(final), "--data", str(synthetic_data), "--out", str(bundle)])
    eval_main(["--bundle", str(bundle), "--data", str(synthetic_data)])
    metrics = json.loads((bundle / "metrics.json").read_text())
    for k in REQUIRED:
        assert k in metrics, k
    assert 0 <= metrics["codebook_usage"] <= 1 and metrics["psnr_n_images"] == 3
    assert metrics["retrieval_n_concepts"] == 4
    man = json.loads((bundle / "manifest.json").read_text())
    assert man["metrics"]["psnr_db"] == metrics["psnr_db"]
    assert "MODEL_CARD.md" in {f["path"] for f in man["files"]}
    # Re-running the evaluation reproduces the numbers.
    again = evaluate(bundle, synthetic_data)
    assert abs(again["psnr_db"] - metrics["psnr_db"]) < 1e-6
    assert again["toklip_t2i_r1"] == metrics["toklip_t2i_r1"]

    write_golden(bundle, synthetic_data, tmp_path / "e2e", tmp_path / "units", n_pairs=2)
    golden = json.loads((tmp_path / "e2e" / "golden.json").read_text())
    assert len(golden["images"]) == 3
    g = golden["images"][0]
    assert np.asarray(g["ids"]).shape == (16, 16)
    text = json.loads((tmp_path / "units" / "text.json").read_text())
    assert all(len(c["ids"]) == 16 for c in text["cases"])
    check_golden_against_pytorch(final, bundle, tmp_path / "e2e", golden)


def check_golden_against_pytorch(checkpoint: Path, bundle: Path, e2e: Path, golden: dict) -> None:
    """Recompute golden.json's ids, embeddings, cosines, probabilities and ranking with the PyTorch checkpoint
    (not the exported ONNX graphs the golden writer ran) from the fixture PNGs and the prompts."""
    model, teacher, _ = load_checkpoint(checkpoint)
    man = json.loads((bundle / "manifest.json").read_text())
    img, t = man["image"], man["text"]
    textin = TextEncoderInput.load(bundle / "tokenizer.json", t["context_length"], t["pad_id"])
    assert golden["prompts"] == man["default_prompts"]
    with torch.no_grad():
        txt = model.encode_text(textin(golden["prompts"])).double()
        scale, bias = model.logit_scale.exp().item(), model.logit_bias.item()
        embs = []
        for g in golden["images"]:
            x = torch.from_numpy(preprocess_image(e2e / g["file"], img)[None])
            ids = model.trunk.vq.encode_ids(x)
            # ONNX and PyTorch may pick different codes only at a near-tie of two codebook distances
            agree = (ids[0].numpy() == np.asarray(g["ids"])).mean()
            assert agree >= 0.98, (g["file"], agree)
            emb = model.encode_ids(torch.tensor([g["ids"]])).double()[0]
            np.testing.assert_allclose(g["embedding"], emb.numpy(), atol=1e-4)
            cos = (txt @ emb).numpy()
            np.testing.assert_allclose(g["cosines"], cos, atol=1e-4)
            np.testing.assert_allclose(g["probabilities"], 1 / (1 + np.exp(-(scale * cos + bias))), atol=1e-4)
            # the ranking orders the independently computed cosines (ties within the tolerance may swap)
            assert sorted(g["ranking"]) == list(range(len(cos)))
            assert all(cos[a] >= cos[b] - 1e-4 for a, b in zip(g["ranking"], g["ranking"][1:])), g["ranking"]
            if teacher is not None:
                tea = teacher.encode_image(x).double()[0]
                np.testing.assert_allclose(g["teacher_cosines"], (txt @ tea).numpy(), atol=1e-4)
            embs.append(emb)
        e = torch.stack(embs)
        np.testing.assert_allclose(golden["image_image_cos"], (e @ e.T).numpy(), atol=1e-4)


def test_resume_skips_finished_stages(synthetic_data: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    run_recipe(synthetic_data, tmp_path / "run", smoke=True, seed=0, threads=2)
    capsys.readouterr()
    run_recipe(synthetic_data, tmp_path / "run", smoke=True, seed=0, threads=2)
    out = capsys.readouterr().out
    assert "[vq] stage already done" in out and "[toklip] stage already done" in out


def test_compare_metrics_flags_drift() -> None:
    from toklip.evaluate import compare_metrics

    saved = {"psnr_db": 24.0, "codebook_usage": 0.7, "perplexity": 500.0, "psnr_n_images": 26, "retrieval_n_concepts": 230}
    assert compare_metrics(saved, dict(saved, psnr_db=24.05)) == []
    assert any("psnr_db" in p for p in compare_metrics(saved, dict(saved, psnr_db=24.2)))
    assert any("codebook_usage" in p for p in compare_metrics(saved, dict(saved, codebook_usage=0.68)))
    assert any("retrieval_n_concepts" in p for p in compare_metrics(saved, dict(saved, retrieval_n_concepts=229)))


def test_renormalised_inverts_to_rgb01() -> None:
    """The reconstruction the teacher is shown (``teacher_recon_*``) must be the decoder's picture in the encoders'
    own normalisation, for any mean / std a manifest gives."""
    from types import SimpleNamespace

    from toklip.evaluate import _renormalised
    from toklip.preprocess import to_rgb01

    rgb = np.random.default_rng(0).random((2, 3, 8, 8)).astype(np.float32)
    b = SimpleNamespace(mean=[0.48, 0.46, 0.41], std=[0.27, 0.26, 0.28])
    x = _renormalised(rgb, b)  # type: ignore[arg-type]
    assert x.dtype == np.float32 and not np.allclose(x, rgb)
    np.testing.assert_allclose(np.stack([to_rgb01(c, b.mean, b.std) for c in x]), rgb, atol=1e-6)
    # out-of-range decoder values are clamped to [0, 1] first
    assert _renormalised(np.full((1, 3, 1, 1), 1.5, np.float32), b).max() == pytest.approx((1 - 0.41) / 0.28, abs=1e-5)
