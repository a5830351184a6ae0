"""The official TokLIP releases (TencentARC/TokLIP): configs, a strict checkpoint loader, and the
SigLIP2 (Gemma) text front end.

Facts taken from the official code (src/timm_local/models/vision_transformer.py,
src/open_clip/model_configs/ViT-SO400M-16-SigLIP2-{256,384}-toklip.json, src/open_clip/factory.py,
src/open_clip/tokenizer.py, src/tokenizer/vq_model.py):

* vision: ``vit_so400m_patch16_toklip_{256,384}``: width 1152, depth 27, 16 heads, MLP
  int(1152 * 3.7362) = 4304, tanh-GELU, causal mask, MAP pooling, no class token; timm still builds
  (and saves) ``patch_embed.proj`` (16×16 conv with bias), unused by the VQ path. The VQ is LlamaGen
  VQ-16 (16384×8 l2-normalised codebook, ch 128, ch_mult (1,1,2,2,4), 2 res blocks, z 256) loaded
  from ``vq_ds16_t2i.pt`` (key ``ema``, else ``model``, else ``state_dict``);
* text: vocab 256000, 64 positions, width 1152, 27 layers, 16 heads, MLP 4304, tanh-GELU, LayerNorm
  eps 1e-6, no causal mask, pooled from the last position, ``text_projection`` Linear with bias;
* the loader reads ``checkpoint['state_dict']`` (else the dict itself) and strips ``module.``; it
  keeps only matching keys and *prints* the rest. Ours refuses: every missing, unexpected or
  mis-shaped key is named in an :class:`OfficialCheckpointError`;
* text cleaning ``canonicalize``: open_clip's ``basic_clean`` (``ftfy.fix_text``, ``html.unescape``
  twice, strip), then big_vision's ``canonicalize_text`` (``_`` -> space, ASCII punctuation deleted,
  lower-case, whitespace collapsed); tokenizer ``timm/ViT-SO400M-16-SigLIP2-{256,384}`` (Gemma SentencePiece) via
  ``AutoTokenizer`` with ``padding='max_length', truncation=True, max_length=64``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import torch
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers

from .model import TextConfig, TokLIP, TokLIPConfig, VisionConfig
# The text rule is torch-free (toklip.runtime uses it); re-exported here, where the official front end lives.
from .textok import TextRule, canonicalize_big_vision, clean_open_clip  # noqa: F401
from .vit import causal_mask
from .vq import VQConfig

HUB_REPO = "TencentARC/TokLIP"
VQ_REPO = "peizesun/llamagen_t2i"
VQ_FILE = "vq_ds16_t2i.pt"
VQ_PREFIX = "visual.trunk.vq."


@dataclass(frozen=True)
class OfficialVariant:
    key: str
    model_id: str
    display_name: str
    image_size: int
    checkpoint_file: str
    model_config: str
    tokenizer_repo: str


VARIANTS: dict[str, OfficialVariant] = {
    "S_256": OfficialVariant("S_256", "toklip-s-256", "TokLIP-S (256 px)", 256, "TokLIP_S_256.pt",
                             "ViT-SO400M-16-SigLIP2-256-toklip", "timm/ViT-SO400M-16-SigLIP2-256"),
    "L_384": OfficialVariant("L_384", "toklip-l-384", "TokLIP-L (384 px)", 384, "TokLIP_L_384.pt",
                             "ViT-SO400M-16-SigLIP2-384-toklip", "timm/ViT-SO400M-16-SigLIP2-384"),
}

# LlamaGen VQ-16 (the VQConfig defaults are exactly these; spelled out so a change there is caught).
VQ16 = VQConfig(codebook_size=16384, codebook_embed_dim=8, ch=128, ch_mult=(1, 1, 2, 2, 4), num_res_blocks=2,
                z_channels=256)
SO400M_MLP = int(1152 * 3.7362)  # 4304, as timm/open_clip compute it


def official_config(variant: str) -> TokLIPConfig:
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {sorted(VARIANTS)}")
    v = VARIANTS[variant]
    vision = VisionConfig(image_size=v.image_size, width=1152, depth=27, heads=16, mlp_hidden=SO400M_MLP,
                          act="gelu_tanh", causal=True, patch_embed=False, patch_size=16)
    text = TextConfig(vocab_size=256000, context_length=64, width=1152, layers=27, heads=16, mlp_hidden=SO400M_MLP,
                      act="gelu_tanh", eps=1e-6, pad_id=0)
    return TokLIPConfig(name=v.model_id, vq=VQ16, vision=vision, text=text, embed_dim=1152,
                        init_logit_scale=math.log(10.0), init_logit_bias=-10.0, teacher=None,
                        extra={"variant": variant, "model_config": v.model_config})


# --------------------------------------------------------------------------------------------------
# Strict loading


class OfficialCheckpointError(ValueError):
    """A checkpoint that does not match the official layout; ``missing``/``unexpected``/``mismatched``
    hold every offending key."""

    def __init__(self, missing: list[str], unexpected: list[str], mismatched: list[tuple[str, tuple, tuple]],
                 source: str = "checkpoint") -> None:
        self.missing, self.unexpected, self.mismatched = missing, unexpected, mismatched
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing key(s): " + ", ".join(missing))
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected key(s): " + ", ".join(unexpected))
        if mismatched:
            parts.append(f"{len(mismatched)} mis-shaped key(s): " + ", ".join(
                f"{k} (checkpoint {list(got)}, model {list(want)})" for k, got, want in mismatched))
        super().__init__(f"{source} does not match the official TokLIP layout: " + "; ".join(parts))


def _torch_load(path: Path, allow_pickle: bool) -> Any:
    """weights_only (no arbitrary pickles) and mmap (a 2 GB checkpoint is not read into RAM twice)."""
    if not path.exists():
        raise FileNotFoundError(path)
    try:
        try:
            return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError as e:
            if "mmap" not in str(e) and "zip" not in str(e):
                raise
            return torch.load(path, map_location="cpu", weights_only=True)  # legacy (non-zip) format
    except Exception as e:  # noqa: BLE001 - pickle.UnpicklingError and friends
        if not allow_pickle:
            raise ValueError(f"{path}: cannot be read with torch.load(weights_only=True) ({e}); if you trust the "
                             f"file, pass --allow-pickle") from e
    return torch.load(path, map_location="cpu", weights_only=False)


def _tensors(d: Mapping[str, Any], path: Path) -> dict[str, torch.Tensor]:
    bad = [k for k, v in d.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise ValueError(f"{path}: state dict entries that are not tensors: {', '.join(map(str, bad[:20]))}")
    return dict(d)


def _strip_module(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    # DDP wrappers save every key under 'module.'; the official loader strips it.
    return {(k[7:] if k.startswith("module.") else k): v for k, v in sd.items()}


def read_toklip_state_dict(path: Path, allow_pickle: bool = False) -> dict[str, torch.Tensor]:
    """``TokLIP_*.pt`` -> flat state dict (``state_dict``/``model`` wrappers and ``module.`` removed)."""
    ck = _torch_load(Path(path), allow_pickle)
    if not isinstance(ck, dict):
        raise ValueError(f"{path}: expected a dict, got {type(ck).__name__}")
    for wrapper in ("state_dict", "model"):
        if isinstance(ck.get(wrapper), dict):
            ck = ck[wrapper]
            break
    return _strip_module(_tensors(ck, Path(path)))


def read_vq_state_dict(path: Path, allow_pickle: bool = False) -> dict[str, torch.Tensor]:
    """``vq_ds16_t2i.pt`` -> VQModel state dict; ``ema`` wins over ``model`` over ``state_dict`` (as the
    official ViT constructor does)."""
    ck = _torch_load(Path(path), allow_pickle)
    if not isinstance(ck, dict):
        raise ValueError(f"{path}: expected a dict, got {type(ck).__name__}")
    for wrapper in ("ema", "model", "state_dict"):
        if isinstance(ck.get(wrapper), dict):
            return _strip_module(_tensors(ck[wrapper], Path(path)))
    raise ValueError(f"{path}: no 'ema', 'model' or 'state_dict' entry (keys: {', '.join(list(ck)[:10])})")


def merge_vq(sd: dict[str, torch.Tensor], vq_sd: Mapping[str, torch.Tensor] | None) -> dict[str, torch.Tensor]:
    """Add the VQ weights under ``visual.trunk.vq.``. Keys the TokLIP checkpoint already holds win, as in
    the official code (the VQ is loaded in the constructor, then the checkpoint is loaded over it)."""
    out = dict(sd)
    for k, v in (vq_sd or {}).items():
        out.setdefault(VQ_PREFIX + k, v)
    return out


def expected_shapes(cfg: TokLIPConfig) -> dict[str, torch.Size]:
    """Every key of the official state dict and its shape; allocates nothing (meta device)."""
    with torch.device("meta"):
        model = TokLIP(cfg)
    return {k: v.shape for k, v in model.state_dict().items()}


def check_state_dict(sd: Mapping[str, torch.Tensor], expected: Mapping[str, torch.Size],
                     source: str = "checkpoint") -> None:
    missing = sorted(k for k in expected if k not in sd)
    unexpected = sorted(k for k in sd if k not in expected)
    mismatched = sorted((k, tuple(sd[k].shape), tuple(expected[k])) for k in expected
                        if k in sd and tuple(sd[k].shape) != tuple(expected[k]))
    if missing or unexpected or mismatched:
        raise OfficialCheckpointError(missing, unexpected, mismatched, source)


def build_from_state_dict(cfg: TokLIPConfig, sd: Mapping[str, torch.Tensor], source: str = "checkpoint") -> TokLIP:
    """Strictly load ``sd`` into a TokLIP built on the meta device: the tensors are adopted (cast to
    float32 where needed), never copied twice."""
    check_state_dict(sd, expected_shapes(cfg), source)
    with torch.device("meta"):
        model = TokLIP(cfg)
    sd32 = {k: (v.float() if v.is_floating_point() and v.dtype != torch.float32 else v) for k, v in sd.items()}
    model.load_state_dict(sd32, strict=True, assign=True)
    trunk = model.trunk
    n = cfg.grid * cfg.grid
    trunk.attn_mask = causal_mask(n) if cfg.vision.causal else None
    left = [name for name, b in model.named_buffers() if b is not None and b.is_meta]
    left += [name for name, p in model.named_parameters() if p.is_meta]
    if left:
        raise RuntimeError(f"tensors left unmaterialised after loading: {', '.join(left)}")
    return model.eval()


# timm's PatchEmbed.proj is commented out in TokLIP's timm_local (the VQ replaces it), so the released
# state dicts have no such keys; a checkpoint saved with stock timm would carry them, unused. They are the
# only keys dropped instead of refused, and the loader says so.
UNUSED_KEYS = ("visual.trunk.patch_embed.proj.weight", "visual.trunk.patch_embed.proj.bias")


def load_official(variant_or_cfg: str | TokLIPConfig, checkpoint: Path, vq: Path | None = None,
                  allow_pickle: bool = False) -> TokLIP:
    cfg = official_config(variant_or_cfg) if isinstance(variant_or_cfg, str) else variant_or_cfg
    sd = read_toklip_state_dict(checkpoint, allow_pickle)
    vq_sd = read_vq_state_dict(vq, allow_pickle) if vq is not None else None
    source = str(checkpoint) + (f" + {vq}" if vq is not None else "")
    dropped = [k for k in UNUSED_KEYS if k in sd]
    if dropped and not cfg.vision.patch_embed:
        print(f"[load] ignoring unused {', '.join(dropped)}")
        sd = {k: v for k, v in sd.items() if k not in dropped}
    return build_from_state_dict(cfg, merge_vq(sd, vq_sd), source)


# --------------------------------------------------------------------------------------------------
# Text: the Gemma tokenizer as tokenizer.json and its special tokens and padding (the cleaning and the
# TextRule that applies them are in toklip.textok)


def _sp_proto(model_file: Path) -> Any:
    try:
        from sentencepiece import sentencepiece_model_pb2 as pb
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("converting a SentencePiece .model needs `pip install sentencepiece protobuf`") from e
    m = pb.ModelProto()
    m.ParseFromString(Path(model_file).read_bytes())
    return m


def sentencepiece_to_tokenizer(model_file: Path) -> Tokenizer:
    """A SentencePiece model (BPE or unigram; Gemma is BPE with byte fallback) as a HuggingFace
    ``tokenizers`` Tokenizer that encodes exactly like ``SentencePieceProcessor.encode``.

    BPE merges are ranked by the score of the merged piece (SentencePiece merges the adjacent pair
    whose result scores highest); control pieces become special tokens, user-defined pieces are kept
    whole (added tokens)."""
    m = _sp_proto(model_file)
    ts, ns = m.trainer_spec, m.normalizer_spec
    pieces = list(m.pieces)
    NORMAL, UNKNOWN, CONTROL, USER = 1, 2, 3, 4  # sentencepiece_model.proto piece types
    if ts.model_type == 2:  # BPE
        vocab = {p.piece: i for i, p in enumerate(pieces)}
        normal = {p.piece: (p.score, i) for i, p in enumerate(pieces) if p.type == NORMAL}
        ranked = []
        for piece, (score, i) in normal.items():
            for cut in range(1, len(piece)):
                left, right = piece[:cut], piece[cut:]
                if left in vocab and right in vocab:
                    ranked.append((-score, i, cut, left, right))
        merges = [(left, right) for *_, left, right in sorted(ranked)]
        unk = pieces[ts.unk_id].piece
        tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token=unk, fuse_unk=True,
                                   byte_fallback=bool(ts.byte_fallback)))
    elif ts.model_type == 1:  # unigram
        tok = Tokenizer(models.Unigram([(p.piece, p.score) for p in pieces], unk_id=ts.unk_id,
                                       byte_fallback=bool(ts.byte_fallback)))
    else:
        raise ValueError(f"{model_file}: SentencePiece model_type {ts.model_type} is not supported (BPE or unigram)")
    norm: list[Any] = []
    if ns.precompiled_charsmap:
        norm.append(normalizers.Precompiled(ns.precompiled_charsmap))
    if ns.remove_extra_whitespaces:
        norm += [normalizers.Strip(left=True, right=True), normalizers.Replace(Regex(" {2,}"), " ")]
    if ns.escape_whitespaces:
        norm.append(normalizers.Replace(" ", "\u2581"))
    if ns.add_dummy_prefix:
        norm.append(normalizers.Prepend("\u2581"))
    tok.normalizer = normalizers.Sequence(norm)
    dec: list[Any] = [decoders.Replace("\u2581", " ")]
    if ts.byte_fallback:
        dec.append(decoders.ByteFallback())
    dec.append(decoders.Fuse())
    if ns.add_dummy_prefix:
        dec.append(decoders.Strip(content=" ", left=1, right=0))
    tok.decoder = decoders.Sequence(dec)
    tok.add_special_tokens([AddedToken(p.piece, special=True, normalized=False)
                            for p in pieces if p.type in (CONTROL, UNKNOWN)])
    user = [AddedToken(p.piece, special=False, normalized=False) for p in pieces if p.type == USER]
    if user:
        tok.add_tokens(user)
    return tok


def _plain(tok: Tokenizer) -> Tokenizer:
    """Drop post-processor, padding and truncation: the manifest's text rule does those, so the app's
    tokenizer library only has to split text into ids."""
    d = json.loads(tok.to_str())
    d["post_processor"] = None
    d["padding"] = None
    d["truncation"] = None
    return Tokenizer.from_str(json.dumps(d, ensure_ascii=False))


@dataclass
class PreparedTokenizer:
    tokenizer: Tokenizer
    rule: TextRule
    source: str


def prepare_tokenizer(path: Path, context_length: int = 64, *, add_bos: bool | None = None,
                      add_eos: bool | None = None, padding_side: str | None = None) -> PreparedTokenizer:
    """``path``: a folder (HF tokenizer files: tokenizer.json and/or tokenizer.model, plus
    tokenizer_config.json), a tokenizer.json, or a SentencePiece .model.

    Special tokens and padding side come from tokenizer_config.json when present, else from the
    HF Gemma tokenizer defaults (add_bos_token=True, add_eos_token=False, padding_side='left'), which is
    what ``AutoTokenizer`` would use; the keyword arguments override both."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    if path.is_dir():
        tj, sp = path / "tokenizer.json", path / "tokenizer.model"
        src = tj if tj.exists() else sp
    else:
        src = path
    if not src.exists():
        raise FileNotFoundError(f"no tokenizer.json or tokenizer.model at {path}")
    tok = Tokenizer.from_file(str(src)) if src.suffix == ".json" else sentencepiece_to_tokenizer(src)
    cfg_file = folder / "tokenizer_config.json"
    tcfg: dict[str, Any] = json.loads(cfg_file.read_text(encoding="utf-8")) if cfg_file.exists() else {}

    def token_id(key: str, default: str) -> int:
        t = tcfg.get(key, default)
        t = t.get("content", default) if isinstance(t, dict) else t
        i = tok.token_to_id(t)
        if i is None:
            raise ValueError(f"{src}: special token {t!r} ({key}) is not in the vocabulary")
        return i

    bos = tcfg.get("add_bos_token", True) if add_bos is None else add_bos
    eos = tcfg.get("add_eos_token", False) if add_eos is None else add_eos
    side = padding_side or tcfg.get("padding_side", "left")
    if side not in ("left", "right"):
        raise ValueError(f"padding_side must be left or right, got {side!r}")
    rule = TextRule(context_length=context_length, pad_id=token_id("pad_token", "<pad>"),
                    bos_id=token_id("bos_token", "<bos>") if bos else None,
                    eos_id=token_id("eos_token", "<eos>") if eos else None, padding_side=side)
    return PreparedTokenizer(_plain(tok), rule, str(src))


# --------------------------------------------------------------------------------------------------
# Hub


@dataclass
class OfficialFiles:
    checkpoint: Path
    vq: Path
    tokenizer: Path  # a folder holding tokenizer.json / tokenizer.model (+ tokenizer_config.json)


def fetch_from_hub(variant: str, repo: str = HUB_REPO, cache_dir: Path | None = None,
                   revision: str | None = None) -> OfficialFiles:
    """Download (or reuse from the HF cache) the checkpoint, LlamaGen's VQ-16 and the SigLIP2 tokenizer."""
    try:
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import EntryNotFoundError
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("--from-hub needs `pip install huggingface_hub`") from e
    v = VARIANTS[variant]
    kw: dict[str, Any] = {"cache_dir": str(cache_dir) if cache_dir else None}
    ckpt = Path(hf_hub_download(repo, v.checkpoint_file, revision=revision, **kw))
    vq = Path(hf_hub_download(VQ_REPO, VQ_FILE, **kw))
    tok_dir: Path | None = None
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model"):
        try:
            p = Path(hf_hub_download(v.tokenizer_repo, name, **kw))
        except EntryNotFoundError:
            continue
        tok_dir = p.parent  # every file of one snapshot lands in the same folder
    if tok_dir is None:
        raise FileNotFoundError(f"{v.tokenizer_repo}: no tokenizer files")
    return OfficialFiles(ckpt, vq, tok_dir)

