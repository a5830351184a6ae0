"""TokLIP: VQ ids -> causal ViT -> MAP embedding, a SigLIP-style text tower, and a pixel teacher.

State-dict layout matches the official TokLIP (open_clip CustomTextCLIP + timm_local ViT):
``visual.trunk.{vq,vq_table,vq_mapping,pos_embed,blocks,norm,attn_pool}.*``, ``text.*``,
``logit_scale``, ``logit_bias``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

from .vit import AttentionPoolLatent, Block, ResidualAttentionBlock, causal_mask
from .vq import VQConfig, VQModel


@dataclass(frozen=True)
class VisionConfig:
    image_size: int = 256
    width: int = 1152
    depth: int = 27
    heads: int = 16
    mlp_hidden: int = 4304
    act: str = "gelu_tanh"
    causal: bool = True
    # The official timm ViT still builds (and saves) an unused patch embedding.
    patch_embed: bool = False
    patch_size: int = 16


@dataclass(frozen=True)
class TextConfig:
    vocab_size: int = 256000
    context_length: int = 64
    width: int = 1152
    layers: int = 27
    heads: int = 16
    mlp_hidden: int = 4304
    act: str = "gelu_tanh"
    eps: float = 1e-6
    pad_id: int = 0


@dataclass(frozen=True)
class TokLIPConfig:
    name: str
    vq: VQConfig
    vision: VisionConfig
    text: TextConfig
    embed_dim: int
    init_logit_scale: float = math.log(10.0)
    init_logit_bias: float = -10.0
    teacher: VisionConfig | None = None
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.5, 0.5, 0.5)
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def grid(self) -> int:
        return self.vision.image_size // self.vq.downsample

    def to_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_dict(d: dict) -> "TokLIPConfig":
        vq = dict(d["vq"])
        vq["ch_mult"] = tuple(vq["ch_mult"])
        teacher = VisionConfig(**d["teacher"]) if d.get("teacher") else None
        return TokLIPConfig(
            name=d["name"],
            vq=VQConfig(**vq),
            vision=VisionConfig(**d["vision"]),
            text=TextConfig(**d["text"]),
            embed_dim=d["embed_dim"],
            init_logit_scale=d["init_logit_scale"],
            init_logit_bias=d["init_logit_bias"],
            teacher=teacher,
            mean=tuple(d["mean"]),
            std=tuple(d["std"]),
            extra=dict(d.get("extra", {})),
        )


class PatchEmbed(nn.Module):
    def __init__(self, patch: int, width: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(3, width, patch, patch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)


class TokLIPVisionTrunk(nn.Module):
    """Semantic encoder over VQ tokens, plus the frozen VQ model it reads ids from."""

    def __init__(self, vq: VQConfig, cfg: VisionConfig) -> None:
        super().__init__()
        grid = cfg.image_size // vq.downsample
        self.cfg = cfg
        self.vq = VQModel(vq)
        if cfg.patch_embed:
            self.patch_embed = PatchEmbed(cfg.patch_size, cfg.width)
        self.pos_embed = nn.Parameter(torch.randn(1, grid * grid, cfg.width) * 0.02)
        self.blocks = nn.ModuleList([Block(cfg.width, cfg.heads, cfg.mlp_hidden, cfg.act) for _ in range(cfg.depth)])
        self.norm = nn.LayerNorm(cfg.width, eps=1e-6)
        self.attn_pool = AttentionPoolLatent(cfg.width, cfg.heads, cfg.mlp_hidden, cfg.act)
        self.vq_table = nn.Linear(vq.codebook_embed_dim, 4 * cfg.width)
        self.vq_act = nn.GELU()  # exact erf GELU, as in the official code
        self.vq_mapping = nn.Linear(4 * cfg.width, cfg.width)
        self.register_buffer("attn_mask", causal_mask(grid * grid) if cfg.causal else None, persistent=False)

    def token_features(self, ids: torch.Tensor) -> torch.Tensor:
        """ids [B, h, w] -> per-token features after the final norm [B, h*w, width]."""
        codes = self.vq.quantize.lookup(ids.long()).flatten(1, 2)
        return self.blocks_from(self.vq_mapping(self.vq_act(self.vq_table(codes))))

    def blocks_from(self, feat: torch.Tensor, causal: bool = True) -> torch.Tensor:
        """Token-MLP outputs [B, h*w, width] -> features after the final norm. Separate from ``token_features`` so
        a probe can feed other features in (``toklip.student_probe``), or drop the mask (``causal=False``)."""
        x = feat + self.pos_embed
        mask = self.attn_mask if causal else None
        for blk in self.blocks:
            x = blk(x, mask)
        return self.norm(x)

    def embed_ids(self, ids: torch.Tensor) -> torch.Tensor:
        return self.attn_pool(self.token_features(ids))

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            ids = self.vq.encode_ids(pixels)
        return self.embed_ids(ids)


class Visual(nn.Module):
    """open_clip's TimmModel wrapper: the ViT lives under ``trunk``."""

    def __init__(self, trunk: nn.Module) -> None:
        super().__init__()
        self.trunk = trunk


class TextTransformer(nn.Module):
    """SigLIP-style text tower: bidirectional, LayerNorm, pooled from the last position."""

    def __init__(self, cfg: TextConfig, embed_dim: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.token_embedding = nn.Embedding(cfg.vocab_size, cfg.width)
        self.positional_embedding = nn.Parameter(torch.randn(cfg.context_length, cfg.width) * 0.01)
        self.transformer = nn.Module()
        self.transformer.resblocks = nn.ModuleList(
            [ResidualAttentionBlock(cfg.width, cfg.heads, cfg.mlp_hidden, cfg.act, cfg.eps) for _ in range(cfg.layers)]
        )
        self.ln_final = nn.LayerNorm(cfg.width, eps=cfg.eps)
        self.text_projection = nn.Linear(cfg.width, embed_dim)
        nn.init.normal_(self.token_embedding.weight, std=0.02)

    def forward_embeddings(self, tok: torch.Tensor) -> torch.Tensor:
        """Token embeddings [B, L, width] -> pooled projection [B, embed]. Kept separate so a huge
        vocabulary table can be gathered outside the GPU graph."""
        x = tok + self.positional_embedding
        for blk in self.transformer.resblocks:
            x = blk(x)
        x = self.ln_final(x)
        return self.text_projection(x[:, -1])

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.forward_embeddings(self.token_embedding(input_ids.long()))


class TokLIP(nn.Module):
    def __init__(self, cfg: TokLIPConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.visual = Visual(TokLIPVisionTrunk(cfg.vq, cfg.vision))
        self.text = TextTransformer(cfg.text, cfg.embed_dim)
        self.logit_scale = nn.Parameter(torch.tensor(cfg.init_logit_scale))
        self.logit_bias = nn.Parameter(torch.tensor(cfg.init_logit_bias))

    @property
    def trunk(self) -> TokLIPVisionTrunk:
        return self.visual.trunk  # type: ignore[return-value]

    def encode_ids(self, ids: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.trunk.embed_ids(ids), dim=-1)

    def encode_text(self, input_ids: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.text(input_ids), dim=-1)


class PixelViT(nn.Module):
    """The pixel teacher's image tower: patchify -> bidirectional ViT -> MAP."""

    def __init__(self, cfg: VisionConfig) -> None:
        super().__init__()
        grid = cfg.image_size // cfg.patch_size
        self.patch_embed = PatchEmbed(cfg.patch_size, cfg.width)
        self.pos_embed = nn.Parameter(torch.randn(1, grid * grid, cfg.width) * 0.02)
        self.blocks = nn.ModuleList([Block(cfg.width, cfg.heads, cfg.mlp_hidden, cfg.act) for _ in range(cfg.depth)])
        self.norm = nn.LayerNorm(cfg.width, eps=1e-6)
        self.attn_pool = AttentionPoolLatent(cfg.width, cfg.heads, cfg.mlp_hidden, cfg.act)

    def token_features(self, pixels: torch.Tensor) -> torch.Tensor:
        """pixels -> per-patch features after the final norm [B, grid*grid, width] (what the pool reads)."""
        x = self.patch_embed(pixels) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.attn_pool(self.token_features(pixels))


class PixelCLIP(nn.Module):
    """Small SigLIP-style CLIP on pixels: the teacher TokLIP distils from."""

    def __init__(self, cfg: TokLIPConfig) -> None:
        super().__init__()
        assert cfg.teacher is not None
        self.visual = Visual(PixelViT(cfg.teacher))
        self.text = TextTransformer(cfg.text, cfg.embed_dim)
        self.logit_scale = nn.Parameter(torch.tensor(cfg.init_logit_scale))
        self.logit_bias = nn.Parameter(torch.tensor(cfg.init_logit_bias))

    def encode_image(self, pixels: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.visual.trunk(pixels), dim=-1)

    def encode_text(self, input_ids: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.text(input_ids), dim=-1)


def tiny_config() -> TokLIPConfig:
    """TokLIP-Tiny: 128 px, 16×16 tokens, 1024×8 codebook, d=192 (the ``toklip-train`` recipe, which now feeds
    its pair images through ``official_toklip``; v1's checkpoint, trained before, names no preprocessing)."""
    vq = VQConfig(codebook_size=1024, codebook_embed_dim=8, ch=32, ch_mult=(1, 1, 2, 4), num_res_blocks=1, z_channels=64)
    vision = VisionConfig(image_size=128, width=192, depth=4, heads=3, mlp_hidden=768, act="gelu_tanh", causal=True)
    text = TextConfig(vocab_size=3072, context_length=16, width=192, layers=3, heads=3, mlp_hidden=768, act="gelu_tanh")
    teacher = VisionConfig(image_size=128, width=192, depth=3, heads=3, mlp_hidden=768, act="gelu_tanh", causal=False, patch_size=16)
    return TokLIPConfig(name="toklip-tiny", vq=vq, vision=vision, text=text, embed_dim=192, teacher=teacher,
                        extra={"preprocessing": "official_toklip"})


def tiny_v2_config() -> TokLIPConfig:
    """TokLIP-Tiny v2: v1's shapes with a 4096-token text vocabulary, trained on the official TokLIP
    preprocessing (issue 11). 1024 codes, as v1: runs with 4096 and 2048 codes (same VQ compute) ended
    1.0-1.1 dB below v1, and in the 400-step ablation (``toklip.vq_ablation``) 1024 codes gave the best
    held-out PSNR (17.01 dB vs 16.06 at 2048): a VQ this undertrained gains more from updates per code
    than from more codes."""
    v1 = tiny_config()
    vq = VQConfig(codebook_size=1024, codebook_embed_dim=8, ch=32, ch_mult=(1, 1, 2, 4), num_res_blocks=1, z_channels=64)
    text = TextConfig(vocab_size=4096, context_length=16, width=192, layers=3, heads=3, mlp_hidden=768, act="gelu_tanh")
    return TokLIPConfig(name="toklip-tiny", vq=vq, vision=v1.vision, text=text, embed_dim=192, teacher=v1.teacher,
                        extra={"preprocessing": "official_toklip", "version": "v2"})


def sigmoid_loss(img: torch.Tensor, txt: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """SigLIP pairwise sigmoid loss; ``labels`` [B,B] of +1/-1 lets duplicates of a concept count as positives."""
    logits = scale.exp() * img @ txt.t() + bias
    if labels is None:
        labels = 2 * torch.eye(img.shape[0], device=img.device) - 1
    return -F.logsigmoid(labels * logits).sum() / img.shape[0]
