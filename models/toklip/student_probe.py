"""How far TokLIP's stage starts from its teacher, before any TokLIP step (issue 11: TokLIP stays at ~0.68 image
cosine to its teacher, 0.74x its R@1).

    python -m toklip.student_probe --base models/runs/tiny-v2-r15 --items 4000 > probe.json

TokLIP's blocks, norm, pool and position embedding start as the teacher's (``train_v2.init_from_teacher``); only
the token MLP (codebook vector -> width) is new. This measures, on the held-out concepts' representatives, the
student's image embedding at init against the teacher's on pixels (mean cosine, pairwise cosine, text->image R@1 with
``toklip-eval``'s pools) when the token features are:

- ``oracle_causal`` / ``oracle_bidirectional``: the teacher's own patch embeddings (each 16 px patch copied onto its
  2x2 tokens), through the student's blocks with and without TokLIP's causal mask. No token mapping can do better
  than these features; the pair separates what the mask costs from what the mapping costs.
- ``default_init`` / ``centred_init``: the token MLP at PyTorch's init and after ``centre_token_mapping`` (the recipe).
- ``per_code_mean``: each code's mean teacher patch embedding over ``--items`` training items (the least-squares
  best a per-token lookup can do against those targets), and ``per_code_mlp`` the token MLP fitted to it.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import torch
import torch.nn.functional as F

from .dataset import load_pairs
from .evaluate import one_per_concept, pooled_recall
from .model import tiny_v2_config
from .student_ablation import V1, V2, _frozen, base_schedule
from .textok import TextEncoderInput
from .train_v2 import (_capped_indices, centre_token_mapping, datasets, init_from_teacher, normalise, pair_rgb,
                       split_calibration, train_pairs)

BATCH = 128


def _chunks(x: torch.Tensor, fn) -> torch.Tensor:  # type: ignore[no-untyped-def]
    return torch.cat([fn(x[i:i + BATCH]) for i in range(0, len(x), BATCH)])


def teacher_patch_features(teacher: torch.nn.Module, px: torch.Tensor, grid: int) -> torch.Tensor:
    """[B, grid*grid, width]: the teacher's patch embeddings (no position), each copied onto the tokens it covers."""
    pe = teacher.visual.trunk.patch_embed.proj(px)
    up = F.interpolate(pe, size=(grid, grid), mode="nearest")
    return up.flatten(2).transpose(1, 2)


def through_student(trunk: torch.nn.Module, feat: torch.Tensor, causal: bool) -> torch.Tensor:
    return trunk.attn_pool(trunk.blocks_from(feat, causal))


def per_code_targets(trunk: torch.nn.Module, teacher: torch.nn.Module, px: torch.Tensor, grid: int,
                     codes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean teacher patch feature per code [codes, width], token count per code)."""
    width = teacher.visual.trunk.pos_embed.shape[-1]
    sums = torch.zeros(codes, width, dtype=torch.float64)
    counts = torch.zeros(codes, dtype=torch.float64)
    for i in range(0, len(px), BATCH):
        b = px[i:i + BATCH]
        ids = trunk.vq.encode_ids(b).flatten()
        sums.index_add_(0, ids, teacher_patch_features(teacher, b, grid).reshape(-1, width).double())
        counts.index_add_(0, ids, torch.ones(len(ids), dtype=torch.float64))
    return (sums / counts.clamp(min=1)[:, None]).float(), counts


def fit_token_mlp(trunk: torch.nn.Module, target: torch.Tensor, counts: torch.Tensor, steps: int = 1500) -> float:
    """Token MLP fitted to ``target`` (token-weighted MSE over the codebook); returns the final loss."""
    codes = trunk.vq.quantize.codebook().detach()
    w = (counts / counts.sum()).float()[:, None]
    opt = torch.optim.Adam([*trunk.vq_table.parameters(), *trunk.vq_mapping.parameters()], lr=3e-3)
    loss = torch.zeros(())
    for _ in range(steps):
        y = trunk.vq_mapping(trunk.vq_act(trunk.vq_table(codes)))
        loss = (w * (y - target) ** 2).sum() / target.shape[1]
        opt.zero_grad()
        loss.backward()
        opt.step()
    return float(loss.detach())


def probe(base: Path, items: int, threads: int = 2, data: Path = V1, data_v2: Path = V2) -> dict[str, object]:
    torch.set_num_threads(threads)
    cfg = tiny_v2_config()
    grid = cfg.vision.image_size // cfg.vq.downsample
    model, teacher = _frozen(base, cfg, 0)
    init_from_teacher(model, teacher)
    model.text.load_state_dict(teacher.text.state_dict())
    trunk = model.trunk
    textin = TextEncoderInput.load(base / "tokenizer.json", cfg.text.context_length, cfg.text.pad_id)
    reps = one_per_concept([p for d in datasets(data, data_v2) for p in load_pairs(d, "val")], rep_only=True)
    out: dict[str, object] = {"base": str(base), "n_concepts": len(reps)}
    with torch.no_grad():
        px = normalise(pair_rgb(reps, cfg.vision.image_size), cfg)
        ids = _chunks(px, trunk.vq.encode_ids)
        tea = _chunks(px, teacher.encode_image)
        caps = [p.captions[0] for p in reps]
        txt = torch.cat([model.encode_text(textin(caps[i:i + BATCH])) for i in range(0, len(caps), BATCH)]).numpy()
    out["teacher_t2i_r1"] = pooled_recall(txt, tea.numpy())

    def report(emb: torch.Tensor) -> dict[str, float]:
        emb = F.normalize(emb, dim=-1)
        off = ~torch.eye(len(emb), dtype=torch.bool)
        return {"cos_to_teacher": round(float((emb * tea).sum(-1).mean()), 4),
                "pairwise_cos": round(float((emb @ emb.T)[off].mean()), 4),
                "t2i_r1": round(pooled_recall(txt, emb.numpy()), 4)}

    with torch.no_grad():
        feat = _chunks(px, lambda b: teacher_patch_features(teacher, b, grid))
        out["oracle_causal"] = report(_chunks(feat, lambda f: through_student(trunk, f, True)))
        out["oracle_bidirectional"] = report(_chunks(feat, lambda f: through_student(trunk, f, False)))
        del feat
        out["default_init"] = report(_chunks(ids, trunk.embed_ids))
        centre_token_mapping(trunk)
        out["centred_init"] = report(_chunks(ids, trunk.embed_ids))

    sch = base_schedule(base)
    pairs, _ = split_calibration(train_pairs(datasets(data, data_v2), None), sch.calib_concepts, 7)
    sem = [pairs[i] for i in _capped_indices(pairs, sch.max_per_concept, 6)]
    sub = random.Random(0).sample(sem, min(items, len(sem)))
    with torch.no_grad():
        target, counts = per_code_targets(trunk, teacher, normalise(pair_rgb(sub, cfg.vision.image_size), cfg), grid,
                                          cfg.vq.codebook_size)
        out["per_code_items"] = len(sub)
        out["per_code_codes_seen"] = int((counts > 0).sum())
        out["per_code_mean"] = report(_chunks(ids, lambda i: through_student(trunk, target[i.flatten(1)], True)))
    out["per_code_mlp_fit_mse"] = round(fit_token_mlp(trunk, target, counts), 4)
    with torch.no_grad():
        out["per_code_mlp"] = report(_chunks(ids, trunk.embed_ids))
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", type=Path, required=True, help="finished toklip-train-v2 run folder (VQ + teacher)")
    ap.add_argument("--items", type=int, default=4000, help="training items the per-code targets are averaged over")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data", type=Path, default=V1, help="v1 dataset folder")
    ap.add_argument("--data-v2", type=Path, default=V2, help="v2 dataset folder")
    a = ap.parse_args(argv)
    print(json.dumps(probe(a.base, a.items, a.threads, a.data, a.data_v2), indent=1))


if __name__ == "__main__":
    main()
