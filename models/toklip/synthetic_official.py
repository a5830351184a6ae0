"""Synthetic checkpoints in the exact official TokLIP layout, for tests and benchmarks on machines that
cannot download the real weights: ``TokLIP_<variant>.pt`` as open_clip training saves it
(``{'state_dict': {'module.' + key}}``, VQ keys left out), ``vq_ds16_t2i.pt`` as LlamaGen saves it
(``{'model': ...}``) and a Gemma-style tokenizer folder (``<pad>/<eos>/<bos>/<unk>`` = 0/1/2/3, byte
fallback, ``▁``-escaped BPE). Weights are random: only shapes, names and numerics of the pipeline are
real, never the meaning of an embedding.

``--depth full`` builds the real TokLIP-S/L sizes (about 4.6 GB fp32 for S-256), ``--depth shallow`` the
same structure at toy width and depth (seconds).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from . import official
from .model import TextConfig, TokLIP, TokLIPConfig, VisionConfig
from .vq import VQConfig

CORPUS = ["a photo of a cat", "a red apple on the table", "the sun and the moon", "dogs running in 2024 parks",
          "an emoji of a smiling face", "café naïve résumé", "mountains rivers and lakes", "numbers 12345 and 67890",
          "a car a tree a house a flower", "photo of the night sky with stars"] * 20


def shallow_config(image_size: int = 64) -> TokLIPConfig:
    """The official structure (VQ-16 levels, causal ViT + MAP, SigLIP text tower) at toy width/depth."""
    vq = VQConfig(codebook_size=256, codebook_embed_dim=8, ch=32, ch_mult=(1, 1, 2, 2, 4), num_res_blocks=1,
                  z_channels=32)
    vision = VisionConfig(image_size=image_size, width=64, depth=2, heads=2, mlp_hidden=172, act="gelu_tanh",
                          causal=True)
    text = TextConfig(vocab_size=1000, context_length=16, width=64, layers=2, heads=2, mlp_hidden=172,
                      act="gelu_tanh", eps=1e-6, pad_id=0)
    return TokLIPConfig(name="toklip-shallow", vq=vq, vision=vision, text=text, embed_dim=64, init_logit_bias=-10.0)


def build_gemma_style_json(folder: Path, *, add_bos: bool = False, add_eos: bool = True,
                           padding_side: str = "right") -> Path:
    """A Gemma-layout tokenizer with the `tokenizers` library only: a BPE over '▁'-escaped text with
    <pad>/<eos>/<bos>/<unk> = 0/1/2/3 and byte fallback, saved as tokenizer.json + tokenizer_config.json
    like a Hugging Face tokenizer folder."""
    from tokenizers import Tokenizer, decoders, models, normalizers, trainers

    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True))
    tok.normalizer = normalizers.Replace(" ", "\u2581")
    tok.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse()])
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<pad>", "<eos>", "<bos>", "<unk>"],
                                  initial_alphabet=[f"<0x{i:02X}>" for i in range(256)], show_progress=False)
    tok.train_from_iterator(CORPUS, trainer=trainer)
    folder.mkdir(parents=True, exist_ok=True)
    tok.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps({"add_bos_token": add_bos, "add_eos_token": add_eos,
                                                              "padding_side": padding_side}))
    return folder


def random_model(cfg: TokLIPConfig, seed: int = 0) -> TokLIP:
    torch.manual_seed(seed)
    model = TokLIP(cfg).eval()
    with torch.no_grad():  # non-trivial logit scale/bias, as a trained model has
        model.logit_scale.fill_(4.0)
        model.logit_bias.fill_(-12.5)
    return model


def save_official_files(model: TokLIP, out: Path, checkpoint_name: str = "TokLIP_S_256.pt") -> tuple[Path, Path]:
    """Split ``model``'s state dict the way the release ships it: TokLIP checkpoint without the VQ, and
    LlamaGen's VQ-16 file."""
    out.mkdir(parents=True, exist_ok=True)
    sd = model.state_dict()
    vq = {k[len(official.VQ_PREFIX):]: v for k, v in sd.items() if k.startswith(official.VQ_PREFIX)}
    rest = {"module." + k: v for k, v in sd.items() if not k.startswith(official.VQ_PREFIX)}
    ckpt, vqf = out / checkpoint_name, out / official.VQ_FILE
    torch.save({"epoch": 3, "name": "toklip", "state_dict": rest}, ckpt)
    torch.save({"model": vq, "steps": 10}, vqf)
    return ckpt, vqf


def official_files(tmp: Path, cfg: TokLIPConfig, seed: int = 0) -> tuple[Path, Path, TokLIP]:
    model = random_model(cfg, seed)
    ckpt, vqf = save_official_files(model, tmp)
    return ckpt, vqf, model


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="toklip-synth-official", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", choices=sorted(official.VARIANTS), default="S_256")
    ap.add_argument("--depth", choices=["full", "shallow"], default="shallow",
                    help="full: the real TokLIP sizes (S_256: ~4.6 GB on disk); shallow: toy width/depth")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True,
                    help="folder for TokLIP_<variant>.pt, vq_ds16_t2i.pt and tokenizer/")
    ap.add_argument("--export", type=Path, metavar="DIR",
                    help="also export through the strict loader: DIR/<id>-<dtype>/ per dtype (shallow depth: the "
                         "full-depth export is `toklip-export --checkpoint ... --variant ...`)")
    ap.add_argument("--dtype", nargs="+", default=["fp32", "int8"], help="with --export")
    ap.add_argument("--id", default="synthetic-official", help="with --export: model id prefix")
    a = ap.parse_args(argv)
    if a.export and a.depth == "full":
        ap.error("--export is for --depth shallow; export a full-depth checkpoint with toklip-export")
    v = official.VARIANTS[a.variant]
    cfg = official.official_config(a.variant) if a.depth == "full" else shallow_config()
    t0 = time.time()
    model = random_model(cfg, a.seed)
    ckpt, vqf = save_official_files(model, a.out, v.checkpoint_file)
    tok = build_gemma_style_json(a.out / "tokenizer")
    n = sum(p.numel() for p in model.parameters())
    print(json.dumps({"checkpoint": str(ckpt), "vq": str(vqf), "tokenizer": str(tok), "variant": a.variant,
                      "depth": a.depth, "parameters": n, "seconds": round(time.time() - t0, 1)}))
    if a.export:
        from .export_official import export_official, size_summary

        loaded = official.load_official(cfg, ckpt, vqf)  # the strict loader, as toklip-export uses it
        prepared = official.prepare_tokenizer(tok, cfg.text.context_length)
        # Small thresholds so even the toy graphs use external-data shards like the full-size ones.
        written = export_official(loaded, prepared, a.export, a.dtype, model_id=a.id,
                                  display_name="Synthetic official layout (random weights)",
                                  description="Random weights in the official TokLIP layout, for tests only.",
                                  shard_bytes=2_000_000, external_threshold=4_000_000, verify=True,
                                  log=lambda *_: None)
        for d, p in written.items():
            print(f"wrote {p} ({d}): {size_summary(p.parent)}")


if __name__ == "__main__":
    main()
