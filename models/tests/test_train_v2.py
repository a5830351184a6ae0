"""TokLIP-Tiny v2 recipe (issue 11): smoke run on synthetic v1 + v2 folders -> export -> eval -> samples,
plus the pieces the recipe and the evaluation are built from."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from toklip.dataset import Pair
from toklip.evaluate import compare_metrics, evaluate, one_per_concept, pooled_recall, thumbnail_psnr
from toklip.export import main as export_main
from toklip.manifest import ManifestError, validate_manifest
from toklip.metrics import participation_ratio
from toklip.samples import build_samples
from toklip.targets import target_status
from toklip.train_v2 import (SMOKE_V2, WHITE, balanced_bias, capped, inverse_participation, logit_distillation,
                              prior_bias, run_recipe, split_calibration, token_distillation, uniformity, zoom_augment)

V2_CONCEPTS = ["cat", "dog", "apple", "car", "tree", "house", "sun", "flower", "fish", "bird", "moon", "star", "boat"]


def make_v2(root: Path) -> Path:
    """Two training styles and a held-out one of the v1 fixture's concepts, plus two texture photos."""
    (root / "pairs").mkdir(parents=True)
    (root / "photos").mkdir()
    rng = np.random.default_rng(1)
    pairs = []
    for ci, c in enumerate(V2_CONCEPTS):
        for style in ("twemoji", "tabler-outline", "openmoji"):
            img = np.full((128, 128, 3), 255, np.uint8)
            yy, xx = np.mgrid[0:128, 0:128]
            r = 18 + 3 * ci
            mask = (np.abs(yy - 64) < r) & (np.abs(xx - 64) < r) if style == "tabler-outline" else \
                (yy - 64) ** 2 + (xx - 64) ** 2 < r * r
            img[mask] = rng.integers(0, 200, 3)
            pid = f"{style}-{c}"
            Image.fromarray(img).save(root / "pairs" / f"{pid}.png")
            split = "heldout_style" if style == "openmoji" else ("val" if ci % 3 == 0 else "train")
            pairs.append({"id": pid, "file": f"pairs/{pid}.png", "source": style, "concept": c,
                          "captions": [f"an emoji of {c}", c], "group": "", "subgroup": "", "split": split,
                          "eval_rep": split == "val" and style == "twemoji", "style": style, "kind": "emoji",
                          "license": "CC-BY-4.0"})
    photos = []
    for i in range(4):
        img = rng.integers(0, 256, (200, 260, 3), dtype=np.uint8)
        Image.fromarray(img).save(root / "photos" / f"t{i}.png")
        photos.append({"id": f"t{i}", "file": f"photos/t{i}.png", "source": "textures", "width": 260, "height": 200,
                       "split": "val" if i == 0 else "train"})
    (root / "pairs.jsonl").write_text("".join(json.dumps(p) + "\n" for p in pairs))
    (root / "photos.jsonl").write_text("".join(json.dumps(p) + "\n" for p in photos))
    (root / "sources.json").write_text(json.dumps({
        "profile": "v2", "debian_version": "test", "options": {"heldout_style": "openmoji"},
        "sources": [{"name": "twemoji", "package": "@twemoji/svg", "version": "0", "registry": "npm", "styles": ["twemoji"],
                     "license": ["CC-BY-4.0"], "attribution": ["Twemoji (test)"]}], "skipped": []}))
    return root


@pytest.fixture(scope="module")
def v2_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_v2(tmp_path_factory.mktemp("data-v2"))


def test_v2_recipe_end_to_end(synthetic_data: Path, v2_data: Path, tmp_path: Path) -> None:
    final = run_recipe(synthetic_data, v2_data, tmp_path / "run", smoke=True, seed=0, threads=2)
    ck = torch.load(final, map_location="cpu", weights_only=False)
    assert ck["recipe"] == "toklip-train-v2"
    assert set(ck["stage_minutes"]) == {"vq", "data", "teacher", "toklip", "calibrate", "decoder"}
    # the decoder stage leaves the encoder and codebook (the ids TokLIP learnt from) as the VQ stage ended them
    vq1 = torch.load(tmp_path / "run" / "stage1_vq.pt", map_location="cpu")
    final_vq = {k[len("visual.trunk.vq."):]: v for k, v in ck["toklip"].items()
                if k.startswith("visual.trunk.vq.")}
    assert set(final_vq) == set(vq1)
    frozen = [k for k in vq1 if not k.startswith(("decoder.", "post_quant_conv."))]
    assert frozen and all(torch.equal(final_vq[k], vq1[k]) for k in frozen)
    assert any(not torch.equal(final_vq[k], vq1[k]) for k in vq1 if k.startswith("decoder."))
    for stage in ck["timing"].values():  # wall, CPU and load recorded per stage
        assert {"wall_minutes", "cpu_minutes", "load_start", "load_end"} <= set(stage)
    # training pairs come from both folders; no held-out-style item is among them
    n_calib = ck["data"]["calibration_concepts"]
    assert n_calib >= 2  # the smoke schedule keeps a few concepts out for the bias calibration
    cal = json.loads((tmp_path / "run" / "calibration.json").read_text())
    assert cal["n_concepts"] == n_calib and cal["calibrated_bias"] != cal["trained_bias"]
    assert float(ck["toklip"]["logit_bias"]) == pytest.approx(cal["calibrated_bias"])
    assert float(ck["teacher"]["logit_bias"]) == pytest.approx(cal["calibrated_bias"])
    assert ck["data"]["train_pairs"] < 16 + 2 * sum(1 for i in range(len(V2_CONCEPTS)) if i % 3)

    bundle = tmp_path / "bundle"
    export_main(["--checkpoint", str(final), "--data", str(synthetic_data), "--data-v2", str(v2_data), "--out", str(bundle)])
    man = json.loads((bundle / "manifest.json").read_text())
    assert man["image"]["preprocessing"] == "official_toklip"
    assert man["codebook"]["size"] == 1024
    assert any(s.get("registry") == "npm" for s in man["license"]["data_sources"])

    m = evaluate(bundle, synthetic_data, data_v2=v2_data)
    for k in ("psnr_db", "thumb32_psnr_db", "participation_ratio", "matched_prob_median", "unmatched_prob_median",
              "heldout_style_t2i_r1", "teacher_heldout_style_t2i_r1", "toklip_t2i_r1", "codebook_usage",
              "teacher_recon_t2i_r1", "teacher_recon_heldout_style_t2i_r1"):
        assert m[k] is not None, k
    assert m["heldout_style"] == "openmoji" and m["heldout_style_n_concepts"] == len(V2_CONCEPTS)
    # held-out concepts: v1's 4 representatives + v2's rep of the one concept v1 lacks (boat)
    assert m["retrieval_n_concepts"] == 5
    assert m["psnr_n_images"] == 3 + 1
    assert compare_metrics(m, evaluate(bundle, synthetic_data, data_v2=v2_data)) == []

    r = build_samples(synthetic_data, v2_data, bundle)
    man = json.loads((bundle / "manifest.json").read_text())
    validate_manifest(man, bundle)
    assert man["samples"] == r["samples"] and man["default_prompts"] == r["default_prompts"]
    splits = {s["split"] for s in man["samples"]}
    assert splits <= {"val", "heldout_style"}
    held_ids = {json.loads(x)["id"] for x in (v2_data / "pairs.jsonl").read_text().splitlines()
                if json.loads(x)["split"] != "train"}
    held_ids |= {json.loads(x)["id"] for f in (synthetic_data, v2_data)
                 for x in (f / "pairs.jsonl").read_text().splitlines() if json.loads(x)["split"] != "train"}
    held_ids |= {json.loads(x)["id"] for f in (synthetic_data, v2_data)
                 for x in (f / "photos.jsonl").read_text().splitlines() if json.loads(x)["split"] == "val"}
    for s in man["samples"]:
        assert Path(s["file"]).stem in held_ids, s  # never a training item
        assert (bundle / s["file"]).is_file()


def test_v2_resume_skips_finished_stages(synthetic_data: Path, v2_data: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    run_recipe(synthetic_data, v2_data, tmp_path / "run", smoke=True, seed=0, threads=2)
    first = json.loads((tmp_path / "run" / "timing.json").read_text())
    capsys.readouterr()
    run_recipe(synthetic_data, v2_data, tmp_path / "run", smoke=True, seed=0, threads=2)
    out = capsys.readouterr().out
    assert "[vq] stage already done" in out and "[teacher] stage already done" in out and "[toklip] stage already done" in out
    assert "[decoder] stage already done" in out
    assert json.loads((tmp_path / "run" / "timing.json").read_text()) == first  # a resume does not re-time stages


def test_inverse_participation_is_one_for_a_line_and_about_one_over_d_for_isotropic() -> None:
    g = torch.Generator().manual_seed(0)
    line = torch.randn(256, 1, generator=g) * torch.ones(1, 16)
    assert inverse_participation(line).item() == pytest.approx(1.0, rel=1e-5)
    iso = torch.randn(4096, 16, generator=g)
    assert inverse_participation(iso).item() == pytest.approx(1 / 16, rel=0.05)
    two = torch.randn(4096, 16, generator=g) * torch.tensor([1.0, 1.0] + [0.0] * 14)
    assert inverse_participation(two).item() == pytest.approx(1 / 2, rel=0.05)
    # the batch term and toklip-eval's metric are the same quantity
    assert 1 / inverse_participation(iso).item() == pytest.approx(participation_ratio(iso.numpy()), rel=1e-4)


def test_spectrum_floor_fades_the_term_on_a_collapsed_batch_and_leaves_a_spread_one_alone() -> None:
    g = torch.Generator().manual_seed(0)
    centre = torch.nn.functional.normalize(torch.randn(1, 64, generator=g), dim=-1)

    def batch(spread: float) -> torch.Tensor:
        x = centre + spread * torch.randn(48, 64, generator=g)
        return torch.nn.functional.normalize(x, dim=-1).requires_grad_(True)

    def grad_norm(x: torch.Tensor, floor: float) -> float:
        (gx,) = torch.autograd.grad(inverse_participation(x, floor), x)
        return gx.norm().item()

    collapsed, spread = batch(1e-4), batch(0.3)
    # without a floor the term is blind to scale: its pull on a collapsed batch is ~1/spread times larger
    assert grad_norm(collapsed, 0.0) > 100 * grad_norm(spread, 0.0)
    # with one it all but vanishes there, and a spread batch keeps nearly the same value and gradient
    assert grad_norm(collapsed, 0.01) < 0.01 * grad_norm(collapsed, 0.0)
    assert inverse_participation(spread, 0.01).item() == pytest.approx(inverse_participation(spread).item(), rel=0.1)
    assert grad_norm(spread, 0.01) == pytest.approx(grad_norm(spread, 0.0), rel=0.2)
    assert inverse_participation(collapsed, 0.01).item() == pytest.approx(1 / 64, rel=0.05)  # floor is isotropic


def test_centre_token_mapping_centres_the_codebook_features_and_spreads_the_embeddings() -> None:
    from toklip.model import TokLIP, tiny_v2_config
    from toklip.train_v2 import centre_token_mapping

    torch.manual_seed(0)
    model = TokLIP(tiny_v2_config())
    tr = model.trunk
    vq_before = {k: v.clone() for k, v in tr.vq.state_dict().items()}
    ids = torch.randint(0, tr.vq.quantize.codebook().shape[0], (32, 16, 16))

    def features() -> torch.Tensor:
        return tr.vq_mapping(tr.vq_act(tr.vq_table(tr.vq.quantize.codebook())))

    def pairwise_cos() -> float:
        e = model.encode_ids(ids)
        return (e @ e.t())[~torch.eye(len(e), dtype=torch.bool)].mean().item()

    with torch.no_grad():
        assert features().mean(0).norm() > features().std(0).mean()  # default init: one shared vector dominates
        before = pairwise_cos()
        centre_token_mapping(tr, std=1.0)
        y = features()
        assert y.mean(0).abs().max().item() < 1e-4
        assert y.std(0).mean().item() == pytest.approx(1.0, rel=1e-4)
        assert pairwise_cos() < before - 0.05  # 0.98 -> 0.88 for this seed
    assert all(torch.equal(v, tr.vq.state_dict()[k]) for k, v in vq_before.items())  # the frozen VQ is untouched


def test_balanced_bias_puts_even_odds_between_matched_and_unmatched() -> None:
    cos = np.full((50, 50), 0.0)
    np.fill_diagonal(cos, 0.8)
    # matched logit 8 + b, unmatched b: the balanced optimum is the midpoint whatever the 1:49 imbalance
    assert balanced_bias(cos, 10.0) == pytest.approx(-4.0, abs=1e-6)
    rng = np.random.default_rng(0)
    noisy = rng.normal(0.0, 0.1, (200, 200))
    np.fill_diagonal(noisy, rng.normal(0.5, 0.1, 200))
    b = balanced_bias(noisy, 20.0)
    p = 1 / (1 + np.exp(-(20.0 * noisy + b)))
    eye = np.eye(200, dtype=bool)
    assert np.median(p[eye]) > 0.9 and np.median(p[~eye]) < 0.1


def test_prior_bias_matches_the_fit_under_the_data_own_prior() -> None:
    # Equal-variance Gaussian cosines: the log-likelihood ratio is linear, slope (mu1 - mu0) / sd^2 = 20. The
    # unweighted sigmoid loss fits the posterior at the data's own 1-in-n prior; Bayes' correction of the
    # balanced bias must land on the same bias.
    rng = np.random.default_rng(1)
    n, sd = 300, 0.1
    cos = rng.normal(0.0, sd, (n, n))
    np.fill_diagonal(cos, rng.normal(0.2, sd, n))
    scale = 0.2 / sd**2
    eye = np.eye(n, dtype=bool)
    z = scale * cos

    def unweighted_slope(b: float) -> float:  # d/db of the plain mean sigmoid loss over all n*n pairs
        return float(np.sum(1 / (1 + np.exp(-(z[~eye] + b)))) - np.sum(1 / (1 + np.exp(z[eye] + b))))

    lo, hi = -50.0, 50.0
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if unweighted_slope(mid) < 0 else (lo, mid)
    balanced = balanced_bias(cos, scale)
    assert balanced == pytest.approx(-scale * 0.2 / 2, abs=0.3)  # midpoint of the two means
    assert prior_bias(balanced, 1 / n) == pytest.approx((lo + hi) / 2, abs=0.3)
    assert prior_bias(balanced, 0.5) == balanced
    assert prior_bias(balanced, 1 / 8) == pytest.approx(balanced - np.log(7))


def test_split_calibration_keeps_whole_concepts_out() -> None:
    pairs = [Pair(f"{c}-{i}", Path("x"), f"c{c}", ["c"], "train", False, "s") for c in range(100) for i in range(3)]
    train, cal = split_calibration(pairs, 7, seed=1)
    assert len({p.concept for p in cal}) == 7 and len(cal) == 21
    assert not {p.concept for p in train} & {p.concept for p in cal} and len(train) + len(cal) == len(pairs)
    assert split_calibration(pairs, 7, seed=1) == (train, cal)
    assert len({p.concept for p in split_calibration(pairs, 400, seed=1)[1]}) == 25  # at most a quarter


def test_uniformity_prefers_spread_embeddings() -> None:
    g = torch.Generator().manual_seed(0)
    spread = F.normalize(torch.randn(64, 32, generator=g), dim=-1)
    collapsed = F.normalize(torch.ones(64, 32) + 0.01 * torch.randn(64, 32, generator=g), dim=-1)
    assert uniformity(spread) < uniformity(collapsed) - 1.0


def test_logit_distillation_is_zero_at_the_teacher_and_pulls_the_ranking_towards_it() -> None:
    g = torch.Generator().manual_seed(0)
    teacher = F.normalize(torch.randn(16, 32, generator=g), dim=-1)
    txt = F.normalize(teacher + 0.5 * torch.randn(16, 32, generator=g), dim=-1)
    scale = torch.tensor(20.0)
    assert logit_distillation(teacher, teacher, txt, scale).item() == pytest.approx(0.0, abs=1e-6)
    student = F.normalize(torch.randn(16, 32, generator=g), dim=-1).requires_grad_(True)
    before = logit_distillation(student, teacher, txt, scale)
    assert before.item() > 0.1
    before.backward()
    stepped = F.normalize(student.detach() - 0.05 * student.grad, dim=-1)  # type: ignore[operator]
    assert logit_distillation(stepped, teacher, txt, scale).item() < before.item()


def test_zoom_augment_keeps_white_page_and_identity() -> None:
    x = torch.full((4, 3, 32, 32), WHITE)
    x[:, :, 12:20, 12:20] = -1.0
    same = zoom_augment(x, random.Random(0), p=0.0)
    assert torch.allclose(same, x, atol=1e-5)
    out = zoom_augment(x, random.Random(0), p=1.0)
    assert torch.allclose(out[:, :, 0, 0], torch.full((4, 3), WHITE), atol=1e-5)  # zoomed out: border stays white
    assert not torch.allclose(out, x)


def test_capped_limits_items_per_concept() -> None:
    pairs = [Pair(f"{c}-{i}", Path("x"), c, ["c"], "train", False, "s") for c in "ab" for i in range(5)]
    out = capped(pairs, 2, seed=0)
    assert sorted(p.concept for p in out) == ["a", "a", "b", "b"]
    assert capped(pairs, 2, seed=0) == out


def test_participation_ratio_counts_directions() -> None:
    rng = np.random.default_rng(0)
    assert participation_ratio(rng.normal(size=(4000, 16))) == pytest.approx(16, rel=0.05)
    line = np.outer(rng.normal(size=500), rng.normal(size=16))
    assert participation_ratio(line) == pytest.approx(1.0, abs=1e-6)


def test_thumbnail_psnr_is_exact_for_flat_and_finite_for_detail() -> None:
    flat = np.full((3, 64, 64), 0.5)
    flat = np.round(flat * 255) / 255
    assert thumbnail_psnr(flat) == float("inf")
    rng = np.random.default_rng(0)
    noisy = rng.integers(0, 256, (3, 64, 64)) / 255
    assert 5 < thumbnail_psnr(noisy) < 15


def test_pooled_recall_on_known_similarities() -> None:
    n = 500
    e = np.eye(n)
    assert pooled_recall(e, e) == 1.0
    assert pooled_recall(e, 1 - e) == 0.0  # every query's own item scores lowest
    assert pooled_recall(e, 1 - e, k=5, i2t=True) == 0.0
    # pools are the same draw every time (seeded)
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(n, 8)), rng.normal(size=(n, 8))
    assert pooled_recall(a, b) == pooled_recall(a, b)


def test_one_per_concept_prefers_first_folder_rep() -> None:
    a = Pair("a1", Path("/v1/pairs/a1.png"), "cat", ["x"], "val", True, "emoji")
    b = Pair("b1", Path("/v2/pairs/b1.png"), "cat", ["y"], "val", True, "twemoji")
    c = Pair("c1", Path("/v2/pairs/c1.png"), "dog", ["z"], "val", False, "twemoji")
    assert [p.id for p in one_per_concept([a, b, c], rep_only=True)] == ["a1"]
    assert [p.id for p in one_per_concept([b, c], rep_only=False)] == ["b1", "c1"]


def test_target_status() -> None:
    s = target_status({"psnr_db": 25.0, "thumb32_psnr_db": 24.2, "toklip_t2i_r1": 0.2, "teacher_t2i_r1": 0.3,
                       "unmatched_prob_median": 0.02})
    assert s["psnr_db"] is True and s["psnr_beats_thumb32"] is True
    assert s["toklip_t2i_r1"] is False and s["toklip_t2i_r1_ge_0.9_teacher"] is False
    assert s["unmatched_prob_median"] is False and s["participation_ratio"] is None


def test_manifest_samples_must_stay_inside_folder(tmp_path: Path) -> None:
    from toklip.export import main as export_main_

    tok = tmp_path / "tok.json"
    from toklip.textok import train_tokenizer

    train_tokenizer(["a cat", "a dog"], 64, tok)
    export_main_(["--random-init", "--tokenizer", str(tok), "--out", str(tmp_path / "b")])
    man = json.loads((tmp_path / "b" / "manifest.json").read_text())
    good = {"file": "samples/x.jpg", "title": "t", "credit": "c", "license": "MIT", "split": "val", "sha256": "0" * 64}
    validate_manifest({**man, "samples": [good]})
    for bad in ({**good, "file": "../x.jpg"}, {**good, "file": "/etc/passwd"}, {**good, "split": "train"}):
        with pytest.raises(ManifestError):
            validate_manifest({**man, "samples": [bad]})
    with pytest.raises(ManifestError):  # with the folder: the file must exist with that hash
        validate_manifest({**man, "samples": [good]}, tmp_path / "b")


def test_kind_balanced_batches_take_each_kind_in_its_share_and_fill_from_others() -> None:
    from toklip.train_v2 import KindBalancedBatches, concept_kinds

    pairs = [Pair(f"e{i}", Path("x"), f"e{i}", ["c"], "train", False, "twemoji", "emoji") for i in range(40)]
    pairs += [Pair(f"i{i}", Path("x"), f"i{i}", ["c"], "train", False, "mdi", "icon") for i in range(400)]
    pairs += [Pair(f"s{i}", Path("x"), f"s{i}", ["c"], "train", False, "tuxpaint") for i in range(3)]  # v1: no kind
    kinds = concept_kinds(pairs)
    assert kinds["s0"] == "stamp" and kinds["e0"] == "emoji" and kinds["i0"] == "icon"
    b = KindBalancedBatches(pairs, 0, (("emoji", 0.5), ("icon", 0.3), ("stamp", 0.2)))
    idx, caps = b.sample(30)
    got = [kinds[pairs[i].concept] for i in idx]
    assert len(idx) == len(caps) == 30 and len({pairs[i].concept for i in idx}) == 30
    # stamps have 3 concepts for a share of 6: the missing 3 come from the largest share's kind
    assert got.count("emoji") == 18 and got.count("icon") == 9 and got.count("stamp") == 3


def test_teacher_ablation_shares_and_a_tiny_run(synthetic_data: Path, v2_data: Path, tmp_path: Path) -> None:
    from toklip.teacher_ablation import evaluate as teacher_eval
    from toklip.teacher_ablation import parse_shares
    from toklip.teacher_ablation import train as teacher_train
    from toklip.train_v2 import ScheduleV2

    pairs = [Pair(f"e{i}", Path("x"), f"e{i}", ["c"], "train", False, "twemoji", "emoji") for i in range(30)]
    pairs += [Pair(f"i{i}", Path("x"), f"i{i}", ["c"], "train", False, "mdi", "icon") for i in range(90)]
    assert parse_shares("recipe", pairs) == ScheduleV2().kind_shares
    assert dict(parse_shares("proportional", pairs)) == {"emoji": 0.25, "icon": 0.75}
    assert parse_shares("emoji=0.2,icon=0.8", pairs) == (("emoji", 0.2), ("icon", 0.8))
    with pytest.raises(Exception, match="kind=share"):
        parse_shares("emoji", pairs)

    # float32 here (the end-to-end recipe test runs the recipe's bf16 teacher)
    assert SMOKE_V2.teacher_bf16 is True
    ck = teacher_train(tmp_path / "t", "proportional", 1, 2, data=synthetic_data, data_v2=v2_data, bf16=False)
    arm = json.loads((tmp_path / "t" / "arm.json").read_text())
    assert ck.exists() and arm["steps"] == 2 and arm["bf16"] is False
    m = teacher_eval(tmp_path / "t", 1, synthetic_data, v2_data)
    assert m["n_concepts"] > 0 and 0.0 <= m["teacher_t2i_r1"] <= 1.0  # type: ignore[operator]
    assert set(m["by_kind"]) and "heldout_style_t2i_r1" in m  # type: ignore[arg-type]


def test_base_schedule_reads_a_schedule_saved_before_a_field_existed_as_it_ran(tmp_path: Path) -> None:
    from dataclasses import asdict

    from toklip.student_ablation import base_schedule
    from toklip.train_v2 import LEGACY_SCHEDULE, ScheduleV2

    old = {k: v for k, v in asdict(ScheduleV2()).items() if k not in LEGACY_SCHEDULE}
    torch.save({"schedule": old}, tmp_path / "final.pt")
    sch = base_schedule(tmp_path)
    assert {k: getattr(sch, k) for k in LEGACY_SCHEDULE} == LEGACY_SCHEDULE
    assert sch.kd_weight == 0.0 and sch.teacher_bf16 is False and sch.spectrum_floor == 0.0
    assert sch.sem_steps == ScheduleV2().sem_steps
    torch.save({"schedule": asdict(ScheduleV2())}, tmp_path / "final.pt")
    assert base_schedule(tmp_path) == ScheduleV2()
    # every legacy entry names a real field (a typo there would be read as nothing)
    assert set(LEGACY_SCHEDULE) <= set(asdict(ScheduleV2()))


def test_student_ablation_repeats_the_recipe_stage_and_evaluates(synthetic_data: Path, v2_data: Path,
                                                                 tmp_path: Path) -> None:
    from toklip.student_ablation import base_schedule
    from toklip.student_ablation import evaluate as student_eval
    from toklip.student_ablation import train as student_train

    run_recipe(synthetic_data, v2_data, tmp_path / "base", smoke=True, seed=0, threads=1)
    assert base_schedule(tmp_path / "base").calib_concepts == SMOKE_V2.calib_concepts
    # no overrides: the base run's TokLIP stage again, on its cached ids, to the same weights
    ck = student_train(tmp_path / "base", tmp_path / "same", 1, data=synthetic_data, data_v2=v2_data)
    want = torch.load(tmp_path / "base" / "stage3_toklip.pt", map_location="cpu")
    got = torch.load(ck, map_location="cpu")
    assert (tmp_path / "same" / "stage3_inputs.pt").is_symlink()
    assert all(torch.equal(want[k], got[k]) for k in want if k.startswith("visual."))
    w = 3 * SMOKE_V2.distill_weight  # an override the base run did not use
    other = student_train(tmp_path / "base", tmp_path / "dw", 1, data=synthetic_data, data_v2=v2_data,
                          distill_weight=w)
    arm = json.loads((tmp_path / "dw" / "arm.json").read_text())
    assert arm["overrides"] == {"distill_weight": w} and arm["schedule"]["distill_weight"] == w
    assert not torch.equal(want["visual.trunk.norm.weight"], torch.load(other)["visual.trunk.norm.weight"])
    kd = student_train(tmp_path / "base", tmp_path / "kd", 1, data=synthetic_data, data_v2=v2_data, kd_weight=1.0)
    assert json.loads((tmp_path / "kd" / "arm.json").read_text())["schedule"]["kd_weight"] == 1.0
    assert not torch.equal(want["visual.trunk.norm.weight"], torch.load(kd)["visual.trunk.norm.weight"])
    tok = student_train(tmp_path / "base", tmp_path / "tok", 1, data=synthetic_data, data_v2=v2_data,
                        token_distill_weight=1.0)
    cached = torch.load(tmp_path / "tok" / "stage3_teacher_tokens.pt")["tokens"]
    assert cached.shape == (len(torch.load(tmp_path / "base" / "stage3_inputs.pt")["ids"]), 64, 192)
    assert not torch.equal(want["visual.trunk.norm.weight"], torch.load(tok)["visual.trunk.norm.weight"])
    # a stale token cache (other items) is recomputed from the items' pixels, not trusted
    (tmp_path / "tok2").mkdir()
    torch.save({"tokens": torch.zeros(1, 64, 192)}, tmp_path / "tok2" / "stage3_teacher_tokens.pt")
    student_train(tmp_path / "base", tmp_path / "tok2", 1, data=synthetic_data, data_v2=v2_data,
                  token_distill_weight=1.0)
    assert torch.equal(torch.load(tmp_path / "tok2" / "stage3_teacher_tokens.pt")["tokens"], cached)
    # another stage seed: another TokLIP init and batch order, same items
    s1 = student_train(tmp_path / "base", tmp_path / "s1", 1, data=synthetic_data, data_v2=v2_data, stage_seed=1)
    assert json.loads((tmp_path / "s1" / "arm.json").read_text())["stage_seed"] == 1
    assert (tmp_path / "s1" / "stage3_inputs.pt").is_symlink()
    assert not torch.equal(want["visual.trunk.vq_table.weight"], torch.load(s1)["visual.trunk.vq_table.weight"])
    bi = student_train(tmp_path / "base", tmp_path / "bi", 1, data=synthetic_data, data_v2=v2_data, bidirectional=True)
    assert json.loads((tmp_path / "bi" / "arm.json").read_text())["causal"] is False
    assert not torch.equal(want["visual.trunk.norm.weight"], torch.load(bi)["visual.trunk.norm.weight"])
    assert student_eval(tmp_path / "bi", tmp_path / "base", 1, synthetic_data, v2_data)["n_concepts"] == 5
    m = student_eval(tmp_path / "dw", tmp_path / "base", 1, synthetic_data, v2_data)
    assert m["n_concepts"] == 5 and 0.0 <= m["toklip_t2i_r1"] <= 1.0  # type: ignore[operator]
    assert "heldout_style_t2i_r1" in m and m["participation_ratio"] > 0  # type: ignore[operator]


def test_token_distillation_is_zero_on_the_teacher_patches_and_pulls_towards_them() -> None:
    torch.manual_seed(0)
    t = torch.randn(2, 64, 12)
    grid = t.transpose(1, 2).reshape(2, 12, 8, 8)
    dup = F.interpolate(grid, scale_factor=2, mode="nearest").flatten(2).transpose(1, 2)  # each patch on 2x2 tokens
    assert token_distillation(dup, t.half()).item() == pytest.approx(0.0, abs=2e-3)  # float16 teacher cache
    s = torch.randn(2, 256, 12, requires_grad=True)
    loss = token_distillation(s, t)
    assert 0.5 < loss.item() < 1.5
    loss.backward()
    with torch.no_grad():
        assert token_distillation(s - 1.0 * s.grad, t) < loss  # a gradient step moves the pooled tokens to the teacher's


def test_the_quantiser_leaves_autocast_and_picks_codes_as_in_float32() -> None:
    from toklip.model import TokLIP, tiny_v2_config

    torch.manual_seed(0)
    q = TokLIP(tiny_v2_config()).trunk.vq.quantize
    zb = torch.randn(4, q.e_dim, 16, 16).bfloat16()  # what an encoder under autocast hands over
    ref = q(zb.float())
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = q(zb)
    assert got[0].dtype == torch.float32 and got[1].dtype == torch.float32
    assert all(torch.equal(g, r) for g, r in zip(got, ref))


def test_vq_forward_bf16_keeps_the_quantiser_float32_and_tracks_float32() -> None:
    from toklip.model import TokLIP, tiny_v2_config
    from toklip.train import Schedule, _vq_forward

    torch.manual_seed(0)
    vq = TokLIP(tiny_v2_config()).trunk.vq.eval()
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        ref = _vq_forward(vq, x, False)
        got = _vq_forward(vq, x, True)
    assert all(t.dtype == r.dtype for t, r in zip(got, ref))  # float32 out, int64 ids: the losses stay float32
    assert got[3].dtype == torch.float32 and got[0].dtype == torch.float32
    # The ids come from float32 features; bf16 rounding of the encoder moves a few near-ties at most.
    assert (got[2] == ref[2]).float().mean() > 0.8
    assert not torch.equal(got[3], ref[3])  # autocast really ran
    assert (got[3] - ref[3]).abs().max() < 0.05 < ref[3].abs().mean()  # the encoder's features track float32
    assert torch.isfinite(got[0]).all() and got[1].dtype == torch.float32
    assert Schedule().vq_bf16 is False and SMOKE_V2.vq_bf16 is True  # v1's recipe stays float32
