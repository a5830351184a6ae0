"""Official TokLIP checkpoints without the real weights: synthetic checkpoints in the exact official key
layout (a shallow config for speed; the full-size layout checked on the meta device), strict loading,
the Gemma-style tokenizer, and ONNX export parity for fp32/fp16/int8."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from toklip import official
from toklip.export_official import (
    export_official,
    gather_table_rows,
    reference_outputs,
    verify_folder,
    write_embedding_table,
)
from toklip.manifest import validate_manifest
from toklip.synthetic_official import CORPUS, build_gemma_style_json, official_files, shallow_config
from toklip.model import TokLIP
from toklip.official import (
    clean_open_clip,
    OfficialCheckpointError,
    TextRule,
    canonicalize_big_vision,
    expected_shapes,
    load_official,
    official_config,
    prepare_tokenizer,
)
from toklip.text_fix_tables import DEFAULT_OUT as TEXT_FIX_TABLES
from toklip.text_fix_tables import build_tables, render

from helpers import import_or_skip_unless_ci

def build_gemma_style_sp(path: Path) -> Path:
    """A small SentencePiece BPE model with Gemma's settings: pad/eos/bos/unk = 0/1/2/3, byte fallback,
    split digits, no dummy prefix, no whitespace normalisation."""
    spm = import_or_skip_unless_ci("sentencepiece")
    import_or_skip_unless_ci("google.protobuf")
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(CORPUS), model_writer=buf, model_type="bpe", vocab_size=400, byte_fallback=True,
        split_digits=True, add_dummy_prefix=False, remove_extra_whitespaces=False, normalization_rule_name="identity",
        pad_id=0, eos_id=1, bos_id=2, unk_id=3, pad_piece="<pad>", eos_piece="<eos>", bos_piece="<bos>",
        unk_piece="<unk>", allow_whitespace_only_pieces=True, character_coverage=1.0, hard_vocab_limit=False,
        minloglevel=2, num_threads=1)
    path.write_bytes(buf.getvalue())
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, TokLIP]:
    return official_files(tmp_path_factory.mktemp("official"), shallow_config())


# ------------------------------------------------------------------------------------------ layout


@pytest.mark.parametrize("variant,size,grid", [("S_256", 256, 16), ("L_384", 384, 24)])
def test_full_size_layout_allocates_nothing(variant: str, size: int, grid: int) -> None:
    t0 = time.time()
    cfg = official_config(variant)
    shapes = expected_shapes(cfg)
    assert time.time() - t0 < 20
    assert cfg.vision.image_size == size and cfg.grid == grid
    assert len([k for k in shapes if k.startswith("visual.trunk.")]) == 688
    assert len([k for k in shapes if k.startswith("text.")]) == 330
    expect = {
        "visual.trunk.vq.quantize.embedding.weight": (16384, 8),
        "visual.trunk.vq.quantize.codebook_used": (65536,),
        "visual.trunk.vq.encoder.conv_in.weight": (128, 3, 3, 3),
        "visual.trunk.vq.encoder.conv_out.weight": (256, 512, 3, 3),
        "visual.trunk.vq.quant_conv.weight": (8, 256, 1, 1),
        "visual.trunk.vq.post_quant_conv.weight": (256, 8, 1, 1),
        "visual.trunk.vq_table.weight": (4608, 8),
        "visual.trunk.vq_mapping.weight": (1152, 4608),
        "visual.trunk.pos_embed": (1, grid * grid, 1152),
        "visual.trunk.blocks.26.attn.qkv.weight": (3456, 1152),
        "visual.trunk.blocks.26.mlp.fc1.weight": (4304, 1152),
        "visual.trunk.norm.weight": (1152,),
        "visual.trunk.attn_pool.latent": (1, 1, 1152),
        "visual.trunk.attn_pool.kv.weight": (2304, 1152),
        "visual.trunk.attn_pool.mlp.fc2.weight": (1152, 4304),
        "text.token_embedding.weight": (256000, 1152),
        "text.positional_embedding": (64, 1152),
        "text.transformer.resblocks.26.attn.in_proj_weight": (3456, 1152),
        "text.transformer.resblocks.26.mlp.c_fc.weight": (4304, 1152),
        "text.ln_final.weight": (1152,),
        "text.text_projection.weight": (1152, 1152),
        "text.text_projection.bias": (1152,),
        "logit_scale": (),
        "logit_bias": (),
    }
    for k, shape in expect.items():
        assert tuple(shapes[k]) == shape, k
    # TokLIP's timm_local PatchEmbed has no proj; the text tower has no causal-mask buffer in the state dict.
    assert not any("patch_embed" in k or "attn_mask" in k or "blocks.27" in k for k in shapes)
    n_params = sum(int(np.prod(s)) for k, s in shapes.items() if k != "visual.trunk.vq.quantize.codebook_used")
    assert 1.1e9 < n_params < 1.3e9  # SO400M vision + SO400M text + 256000×1152 table + VQ-16


# ------------------------------------------------------------------------------------------ loader


def test_strict_loader_round_trip(files: tuple[Path, Path, TokLIP]) -> None:
    ckpt, vqf, ref = files
    model = load_official(shallow_config(), ckpt, vqf)
    for k, v in ref.state_dict().items():
        assert torch.equal(model.state_dict()[k], v), k
    ids = torch.randint(0, 256, (2, 4, 4), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(model.encode_ids(ids), ref.encode_ids(ids))


def _resave(tmp: Path, ckpt: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    d = torch.load(ckpt, weights_only=True)
    edit(d["state_dict"])
    out = tmp / "edited.pt"
    torch.save(d, out)
    return out


def test_renamed_key_is_named(files: tuple[Path, Path, TokLIP], tmp_path: Path) -> None:
    ckpt, vqf, _ = files

    def rename(sd: dict) -> None:
        sd["module.visual.trunk.blocks.1.attn.qkv_renamed.weight"] = sd.pop("module.visual.trunk.blocks.1.attn.qkv.weight")

    bad = _resave(tmp_path, ckpt, rename)
    with pytest.raises(OfficialCheckpointError) as e:
        load_official(shallow_config(), bad, vqf)
    msg = str(e.value)
    assert "missing key(s): visual.trunk.blocks.1.attn.qkv.weight" in msg
    assert "unexpected key(s): visual.trunk.blocks.1.attn.qkv_renamed.weight" in msg
    assert e.value.missing == ["visual.trunk.blocks.1.attn.qkv.weight"]


def test_reshaped_key_is_named(files: tuple[Path, Path, TokLIP], tmp_path: Path) -> None:
    ckpt, vqf, _ = files

    def reshape(sd: dict) -> None:
        sd["module.text.text_projection.weight"] = sd["module.text.text_projection.weight"][:, :32].clone()

    bad = _resave(tmp_path, ckpt, reshape)
    with pytest.raises(OfficialCheckpointError, match=r"mis-shaped key\(s\): text\.text_projection\.weight "
                                                      r"\(checkpoint \[64, 32\], model \[64, 64\]\)"):
        load_official(shallow_config(), bad, vqf)


def test_missing_vq_and_vq_wrappers(files: tuple[Path, Path, TokLIP], tmp_path: Path) -> None:
    ckpt, vqf, ref = files
    with pytest.raises(OfficialCheckpointError, match="visual.trunk.vq.quantize.embedding.weight"):
        load_official(shallow_config(), ckpt, None)
    vq = torch.load(vqf, weights_only=True)["model"]
    # 'ema' wins over 'model' (as in the official constructor); a TokLIP checkpoint's own VQ keys win over the file.
    torch.save({"ema": vq, "model": {"junk": torch.zeros(1)}}, tmp_path / "ema.pt")
    load_official(shallow_config(), ckpt, tmp_path / "ema.pt")
    torch.save({"model": {"module." + k: v for k, v in ref.state_dict().items()}}, tmp_path / "full.pt")
    m = load_official(shallow_config(), tmp_path / "full.pt", None)  # 'model' wrapper, VQ inside
    assert torch.equal(m.trunk.vq.quantize.embedding.weight, ref.trunk.vq.quantize.embedding.weight)
    torch.save({"nothing": vq}, tmp_path / "bad_vq.pt")
    with pytest.raises(ValueError, match="no 'ema', 'model' or 'state_dict'"):
        load_official(shallow_config(), ckpt, tmp_path / "bad_vq.pt")


# ------------------------------------------------------------------------------------------ text


def test_canonicalize_big_vision() -> None:
    assert canonicalize_big_vision("  A  Photo_of a CAT!!  ") == "a photo of a cat"
    assert canonicalize_big_vision("don't-stop, é\u00e9") == "dontstop éé"  # ASCII punctuation is deleted
    assert canonicalize_big_vision("tab\tand\nnewline") == "tab and newline"


def test_clean_open_clip_runs_ftfy_and_html_unescape_first() -> None:
    # curly quotes straighten (then go as punctuation), fullwidth folds to ASCII, entities decode
    assert clean_open_clip("It\u2019s a \u201cCAT\u201d &amp; \uff24\uff2f\uff27") == "its a cat dog"
    assert clean_open_clip("\ufb01sh &lt;3 caf\u00e9") == "fish 3 café"
    assert clean_open_clip("e\u0301") == "\u00e9"  # NFC
    assert canonicalize_big_vision("It\u2019s") == "it\u2019s"  # the inner step alone keeps them


def test_text_fix_tables_match_installed_ftfy() -> None:
    """src/lib/textFixTables.json is what the app's copy of ftfy/html.unescape consults."""
    committed = json.loads(TEXT_FIX_TABLES.read_text(encoding="utf-8"))
    built = json.loads(render(build_tables()))
    committed.pop("source")
    built.pop("source")
    assert committed == built, "src/lib/textFixTables.json is stale: run python -m toklip.text_fix_tables"


def test_sentencepiece_conversion_matches_sentencepiece(tmp_path: Path) -> None:
    spm = import_or_skip_unless_ci("sentencepiece")
    model_file = build_gemma_style_sp(tmp_path / "tokenizer.model")
    sp = spm.SentencePieceProcessor(model_file=str(model_file))
    tok = official.sentencepiece_to_tokenizer(model_file)
    rng = np.random.default_rng(0)
    words = " ".join(CORPUS[:10]).split() + ["zebra", "ünïcode", "日本語", "x9z", "emoji😀", "photos", "photography"]
    cases = ["a photo of a cat", "zebra 2025", "", "  two  spaces ", "café"]
    cases += [" ".join(rng.choice(words, size=int(rng.integers(1, 9)))) for _ in range(200)]
    for s in cases:
        assert tok.encode(s, add_special_tokens=False).ids == sp.encode(s), s
    assert tok.token_to_id("<pad>") == 0 and tok.token_to_id("<eos>") == 1 and tok.token_to_id("<bos>") == 2


def test_text_rule_special_tokens_and_padding(tmp_path: Path) -> None:
    import_or_skip_unless_ci("sentencepiece")
    build_gemma_style_sp(tmp_path / "tokenizer.model")
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"add_bos_token": False, "add_eos_token": True,
                                                                "padding_side": "right"}))
    p = prepare_tokenizer(tmp_path, context_length=8)
    assert (p.rule.bos_id, p.rule.eos_id, p.rule.padding_side, p.rule.pad_id) == (None, 1, "right", 0)
    body = p.tokenizer.encode("a photo of a cat", add_special_tokens=False).ids
    assert p.rule.ids(p.tokenizer, "A photo, of a CAT!") == (body + [1] + [0] * 8)[:8]
    long = p.rule.ids(p.tokenizer, "a photo of a cat " * 10)
    assert len(long) == 8 and long[-1] == 1  # truncation keeps the EOS, like HF truncation=True
    # No tokenizer_config.json: the HF Gemma defaults (bos, no eos, left padding).
    (tmp_path / "tokenizer_config.json").unlink()
    q = prepare_tokenizer(tmp_path / "tokenizer.model", context_length=8)
    ids = q.rule.ids(q.tokenizer, "a cat")
    assert q.rule.bos_id == 2 and q.rule.eos_id is None and q.rule.padding_side == "left"
    n = len(q.tokenizer.encode("a cat", add_special_tokens=False).ids)
    assert ids[: 8 - n - 1] == [0] * (8 - n - 1) and ids[8 - n - 1] == 2
    # tokenizer.json round trip: no post-processor, so the app's library adds nothing itself.
    q.tokenizer.save(str(tmp_path / "tokenizer.json"))
    r = prepare_tokenizer(tmp_path / "tokenizer.json", context_length=8, add_bos=False, add_eos=True,
                          padding_side="right")
    assert r.tokenizer.encode("a cat").ids == q.tokenizer.encode("a cat", add_special_tokens=False).ids
    assert json.loads(r.tokenizer.to_str())["post_processor"] is None


def test_embedding_table_formats(tmp_path: Path) -> None:
    torch.manual_seed(0)
    w = torch.randn(50, 24)
    ids = np.array([[0, 7, 49, 7]])
    for dtype, tol in (("fp32", 0.0), ("fp16", 2e-3), ("int8", 0.02)):
        p = tmp_path / f"{dtype}.bin"
        write_embedding_table(w, p, dtype, chunk=16)
        rb = {"fp32": 96, "fp16": 48, "int8": 28}[dtype]
        assert p.stat().st_size == 50 * rb
        rows = gather_table_rows(p, {"dim": 24, "dtype": dtype, "row_bytes": rb}, ids)
        err = np.abs(rows[0] - w.numpy()[ids[0]]).max()
        assert err <= tol * max(1.0, float(w.abs().max())), (dtype, err)


# ------------------------------------------------------------------------------------------ export


@pytest.fixture(scope="module")
def exported(files: tuple[Path, Path, TokLIP], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TokLIP, dict]:
    tmp = tmp_path_factory.mktemp("export")
    ckpt, vqf, _ = files
    cfg = shallow_config()
    build_gemma_style_json(tmp)
    model = load_official(cfg, ckpt, vqf)
    prepared = prepare_tokenizer(tmp, cfg.text.context_length)
    ref = reference_outputs(model, prepared)
    # Tiny thresholds so the shallow graphs exercise external data and sharding like the full-size ones.
    export_official(model, prepared, tmp / "out", ["fp32", "fp16", "int8"], model_id="toklip-shallow",
                    display_name="Shallow", shard_bytes=200_000, external_threshold=300_000, verify=False,
                    log=lambda *_: None)
    return tmp / "out", model, ref


@pytest.mark.parametrize("dtype", ["fp32", "fp16", "int8"])
def test_export_parity(exported: tuple[Path, TokLIP, dict], dtype: str) -> None:
    out, _, ref = exported
    folder = out / f"toklip-shallow-{dtype}"
    res = verify_folder(folder, ref)
    assert res["ids_identical"], res
    assert res["text_ids_identical"], res
    floor = 0.9999 if dtype == "fp32" else 0.999
    assert res["semantic_min_cos"] >= floor and res["text_min_cos"] >= floor, res
    assert res["decoder_max_abs"] < (1e-4 if dtype != "fp16" else 2e-2), res


def test_manifest_describes_large_model_layout(exported: tuple[Path, TokLIP, dict]) -> None:
    out, model, _ = exported
    sizes = {}
    for dtype in ("fp32", "fp16", "int8"):
        folder = out / f"toklip-shallow-{dtype}"
        m = json.loads((folder / "manifest.json").read_text())
        validate_manifest(m, folder)  # every file, external-data shards included, has the right size and sha256
        assert m["schema_version"] == 1 and m["id"] == f"toklip-shallow-{dtype}"
        t = m["text"]
        assert t["input"] == "embeddings" and t["clean"] == "canonicalize" and t["clean_rule"] == "big_vision"
        assert (t["bos_id"], t["eos_id"], t["padding_side"], t["context_length"]) == (None, 1, "right", 16)
        tab = t["embedding_table"]
        assert (tab["rows"], tab["dim"], tab["dtype"]) == (1000, 64, dtype)
        assert (folder / tab["path"]).stat().st_size == tab["rows"] * tab["row_bytes"]
        roles = {f["role"]: f for f in m["files"]}
        assert {"vq_encoder", "vq_decoder", "semantic_encoder", "text_encoder", "tokenizer", "codebook",
                "text_embedding"} <= set(roles)
        assert roles["vq_encoder"]["dtype"] == "fp32"
        mem = m["memory"]
        for role in ("vq_encoder", "vq_decoder", "semantic_encoder", "text_encoder"):
            ext = roles[role].get("external_data", [])
            assert bool(ext) == (mem["graph_weights_bytes"][role] > 300_000), (dtype, role)
            assert [roles[f"{role}_data_{i}"]["path"] for i in range(len(ext))] == ext
            assert all(roles[f"{role}_data_{i}"]["graph"] == role for i in range(len(ext)))
        if dtype == "fp32":
            assert len(roles["text_encoder"]["external_data"]) >= 2  # sharded
        assert mem["weights_bytes"] > 0 and mem["peak_estimate_bytes"] > mem["weights_bytes"]
        assert mem["text_embedding_table_bytes"] == tab["bytes"]
        sizes[dtype] = mem["graph_weights_bytes"]["text_encoder"]
        import onnx

        g = onnx.load(str(folder / "text_encoder.onnx"), load_external_data=False)
        assert [i.name for i in g.graph.input] == ["token_embeds"]
        assert all(int(np.prod(i.dims)) < 1000 * 64 for i in g.graph.initializer)  # the table is not in the graph
    assert sizes["fp16"] < 0.55 * sizes["fp32"] and sizes["int8"] < 0.35 * sizes["fp32"]
    cb = np.frombuffer((out / "toklip-shallow-fp16" / "codebook.bin").read_bytes(), "<f4").reshape(256, 8)
    np.testing.assert_allclose(cb, model.trunk.vq.quantize.codebook().detach().numpy(), atol=1e-7)


# ------------------------------------------------------------------------------------------ CLI


def test_cli_local_and_hub(files: tuple[Path, Path, TokLIP], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    from toklip.export import main

    ckpt, vqf, _ = files
    monkeypatch.setattr(official, "official_config", lambda variant: shallow_config())
    tokdir = build_gemma_style_json(tmp_path / "tok")
    main(["--checkpoint", str(ckpt), "--vq", str(vqf), "--tokenizer", str(tokdir), "--dtype", "int8",
          "--out", str(tmp_path / "toklip-s-256")])
    out = capsys.readouterr().out
    m = json.loads((tmp_path / "toklip-s-256" / "manifest.json").read_text())
    assert m["id"] == "toklip-s-256" and m["variant"]["dtype"] == "int8"  # variant inferred from TokLIP_S_256.pt
    par = m["export"]["parity"]
    assert par["ids_identical"] and par["semantic_min_cos"] >= 0.999 and par["text_min_cos"] >= 0.999, out

    calls = []
    hub = import_or_skip_unless_ci("huggingface_hub")

    def fake_download(repo_id: str, filename: str, **kw: object) -> str:
        calls.append((repo_id, filename))
        local = {("TencentARC/TokLIP", "TokLIP_S_256.pt"): ckpt, ("peizesun/llamagen_t2i", "vq_ds16_t2i.pt"): vqf,
                 ("timm/ViT-SO400M-16-SigLIP2-256", "tokenizer.json"): tokdir / "tokenizer.json",
                 ("timm/ViT-SO400M-16-SigLIP2-256", "tokenizer_config.json"): tokdir / "tokenizer_config.json"}.get((repo_id, filename))
        if local is None:
            from huggingface_hub.errors import EntryNotFoundError

            raise EntryNotFoundError(f"{repo_id}/{filename}")
        return str(local)

    monkeypatch.setattr(hub, "hf_hub_download", fake_download)
    main(["--from-hub", "TencentARC/TokLIP", "--variant", "S_256", "--dtype", "fp32", "--no-verify",
          "--out", str(tmp_path / "hub")])
    assert ("TencentARC/TokLIP", "TokLIP_S_256.pt") in calls and ("peizesun/llamagen_t2i", "vq_ds16_t2i.pt") in calls
    assert ("timm/ViT-SO400M-16-SigLIP2-256", "tokenizer.json") in calls
    m = json.loads((tmp_path / "hub" / "manifest.json").read_text())
    assert m["id"] == "hub" and (m["text"]["eos_id"], m["text"]["padding_side"]) == (1, "right")


def test_text_rule_left_padding_matches_hf_semantics() -> None:
    class Tok:
        def encode(self, s: str, add_special_tokens: bool = False):  # type: ignore[no-untyped-def]
            return type("E", (), {"ids": [10 + i for i, _ in enumerate(s.split())]})()

    r = TextRule(context_length=6, pad_id=0, bos_id=2, eos_id=1, padding_side="left")
    assert r.ids(Tok(), "a b") == [0, 0, 2, 10, 11, 1]
    assert r.ids(Tok(), "a b c d e f g") == [2, 10, 11, 12, 13, 1]
    assert r.ids(Tok(), "!!!") == [0, 0, 0, 0, 2, 1]


def test_synth_official_cli_exports_through_the_strict_loader(tmp_path: Path) -> None:
    from toklip.synthetic_official import main as synth_main

    synth_main(["--depth", "shallow", "--out", str(tmp_path / "ckpt"), "--export", str(tmp_path / "models"),
                "--dtype", "fp32", "int8", "--id", "synth"])
    sd = torch.load(tmp_path / "ckpt" / "TokLIP_S_256.pt", weights_only=True)["state_dict"]
    assert all(k.startswith("module.") for k in sd) and not any(".vq." in k for k in sd)
    for d in ("fp32", "int8"):
        m = json.loads((tmp_path / "models" / f"synth-{d}" / "manifest.json").read_text())
        assert m["text"]["input"] == "embeddings" and m["variant"]["dtype"] == d
        assert any("external_data" in f for f in m["files"])  # the toy graphs are sharded like full-size ones
        par = m["export"]["parity"]
        assert par["ids_identical"] and par["text_ids_identical"], par
        assert par["semantic_min_cos"] >= (0.9999 if d == "fp32" else 0.999), par
