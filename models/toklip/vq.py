"""VQ tokenizer in the LlamaGen VQ-16 family.

Parameter names follow LlamaGen's ``tokenizer/tokenizer_image/vq_model.py`` so that the official
``vq_ds16_t2i.pt`` state dict loads into these classes unchanged; only channel widths, levels and
codebook shape are configurable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass(frozen=True)
class VQConfig:
    codebook_size: int = 16384
    codebook_embed_dim: int = 8
    ch: int = 128
    ch_mult: tuple[int, ...] = (1, 1, 2, 2, 4)
    num_res_blocks: int = 2
    z_channels: int = 256
    commit_loss_beta: float = 0.25
    # LlamaGen keeps a 65536-slot usage buffer in the state dict; we keep it for key compatibility.
    usage_buffer: int = 65536
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def downsample(self) -> int:
        return 2 ** (len(self.ch_mult) - 1)


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(num_groups=32, num_channels=channels, eps=1e-6, affine=True)


class ResnetBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.norm1 = _norm(in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, 1, 1)
        self.norm2 = _norm(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1)
        if in_channels != out_channels:
            self.nin_shortcut = nn.Conv2d(in_channels, out_channels, 1, 1, 0)
        else:
            self.nin_shortcut = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        skip = x if self.nin_shortcut is None else self.nin_shortcut(x)
        return skip + h


class AttnBlock(nn.Module):
    """Single-head spatial self-attention over all positions (1×1 conv projections)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = _norm(channels)
        self.q = nn.Conv2d(channels, channels, 1)
        self.k = nn.Conv2d(channels, channels, 1)
        self.v = nn.Conv2d(channels, channels, 1)
        self.proj_out = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm(x)
        b, c, hh, ww = h.shape
        q = self.q(h).reshape(b, c, hh * ww).transpose(1, 2)
        k = self.k(h).reshape(b, c, hh * ww)
        v = self.v(h).reshape(b, c, hh * ww)
        w = torch.softmax(torch.bmm(q, k) * (c**-0.5), dim=2)
        out = torch.bmm(v, w.transpose(1, 2)).reshape(b, c, hh, ww)
        return x + self.proj_out(out)


class Downsample(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, 2, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Asymmetric pad keeps LlamaGen's exact spatial alignment.
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class Upsample(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, 1, 1)
        # Set only while exporting (upconv.transposed_upsampling): the same output with less arithmetic.
        self.fast: Callable[[torch.Tensor], torch.Tensor] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fast is not None:
            return self.fast(x)
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class _Level(nn.Module):
    """Holds ``res``, ``attn`` and optionally ``downsample``/``upsample`` like LlamaGen's conv_block."""


class Encoder(nn.Module):
    def __init__(self, cfg: VQConfig) -> None:
        super().__init__()
        ch, mult, nres = cfg.ch, cfg.ch_mult, cfg.num_res_blocks
        self.num_res_blocks = nres
        self.conv_in = nn.Conv2d(3, ch, 3, 1, 1)
        in_mult = (1,) + tuple(mult)
        self.conv_blocks = nn.ModuleList()
        block_in = ch
        for level, m in enumerate(mult):
            blk = _Level()
            blk.res = nn.ModuleList()
            blk.attn = nn.ModuleList()
            block_in = ch * in_mult[level]
            for _ in range(nres):
                blk.res.append(ResnetBlock(block_in, ch * m))
                block_in = ch * m
                if level == len(mult) - 1:
                    blk.attn.append(AttnBlock(block_in))
            if level != len(mult) - 1:
                blk.downsample = Downsample(block_in)
            self.conv_blocks.append(blk)
        self.mid = nn.ModuleList([ResnetBlock(block_in, block_in), AttnBlock(block_in), ResnetBlock(block_in, block_in)])
        self.norm_out = _norm(block_in)
        self.conv_out = nn.Conv2d(block_in, cfg.z_channels, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv_in(x)
        for blk in self.conv_blocks:
            for i in range(self.num_res_blocks):
                h = blk.res[i](h)
                if len(blk.attn) > 0:
                    h = blk.attn[i](h)
            if hasattr(blk, "downsample"):
                h = blk.downsample(h)
        for m in self.mid:
            h = m(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class Decoder(nn.Module):
    def __init__(self, cfg: VQConfig) -> None:
        super().__init__()
        ch, mult, nres = cfg.ch, cfg.ch_mult, cfg.num_res_blocks
        self.num_res_blocks = nres
        block_in = ch * mult[-1]
        self.conv_in = nn.Conv2d(cfg.z_channels, block_in, 3, 1, 1)
        self.mid = nn.ModuleList([ResnetBlock(block_in, block_in), AttnBlock(block_in), ResnetBlock(block_in, block_in)])
        self.conv_blocks = nn.ModuleList()
        for level in reversed(range(len(mult))):
            blk = _Level()
            blk.res = nn.ModuleList()
            blk.attn = nn.ModuleList()
            for _ in range(nres + 1):
                blk.res.append(ResnetBlock(block_in, ch * mult[level]))
                block_in = ch * mult[level]
                if level == len(mult) - 1:
                    blk.attn.append(AttnBlock(block_in))
            if level != 0:
                blk.upsample = Upsample(block_in)
            self.conv_blocks.append(blk)
        self.norm_out = _norm(block_in)
        self.conv_out = nn.Conv2d(block_in, 3, 3, 1, 1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.conv_in(z)
        for m in self.mid:
            h = m(h)
        for blk in self.conv_blocks:
            for i in range(self.num_res_blocks + 1):
                h = blk.res[i](h)
                if len(blk.attn) > 0:
                    h = blk.attn[i](h)
            if hasattr(blk, "upsample"):
                h = blk.upsample(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class VectorQuantizer(nn.Module):
    """l2-normalised codebook; nearest code by cosine (== smallest distance on the unit sphere)."""

    def __init__(self, cfg: VQConfig) -> None:
        super().__init__()
        self.n_e = cfg.codebook_size
        self.e_dim = cfg.codebook_embed_dim
        self.beta = cfg.commit_loss_beta
        self.embedding = nn.Embedding(self.n_e, self.e_dim)
        self.embedding.weight.data.uniform_(-1.0 / self.n_e, 1.0 / self.n_e)
        self.embedding.weight.data = F.normalize(self.embedding.weight.data, p=2, dim=-1)
        self.register_buffer("codebook_used", torch.zeros(cfg.usage_buffer))

    def codebook(self) -> torch.Tensor:
        return F.normalize(self.embedding.weight, p=2, dim=-1)

    def indices(self, z: torch.Tensor) -> torch.Tensor:
        """z: [B, C, H, W] pre-quant features -> ids [B, H, W] (int64)."""
        zf = F.normalize(z.permute(0, 2, 3, 1), p=2, dim=-1)
        # argmax of the dot product equals argmin of the distance for unit vectors; ONNX ArgMax
        # over [B, H, W, K] keeps the graph small.
        return torch.argmax(torch.matmul(zf, self.codebook().t()), dim=-1)

    def lookup(self, ids: torch.Tensor) -> torch.Tensor:
        """ids [B, H, W] -> unit code vectors [B, H, W, C]."""
        return F.embedding(ids, self.codebook())

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Returns (straight-through quantised [B,C,H,W], loss, ids), all float32 (ids int64).

        It leaves any autocast region and works in float32: nearest-code choices between unit vectors that
        differ in the third digit must not hinge on bf16 rounding, and the app's graphs are float32, so a
        VQ trained with its convolutions under autocast still picks codes as the exported graph does."""
        with torch.autocast(z.device.type, enabled=False):
            return self._quantise(z.float())

    def _quantise(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        zf = F.normalize(z.permute(0, 2, 3, 1), p=2, dim=-1)
        ids = torch.argmax(torch.matmul(zf.detach(), self.codebook().t()), dim=-1)
        zq = self.lookup(ids)
        codebook_loss = F.mse_loss(zq, zf.detach())
        commit_loss = F.mse_loss(zf, zq.detach())
        loss = codebook_loss + self.beta * commit_loss
        zq = zf + (zq - zf).detach()
        return zq.permute(0, 3, 1, 2).contiguous(), loss, ids


class VQModel(nn.Module):
    def __init__(self, cfg: VQConfig) -> None:
        super().__init__()
        self.config = cfg
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)
        self.quantize = VectorQuantizer(cfg)
        self.quant_conv = nn.Conv2d(cfg.z_channels, cfg.codebook_embed_dim, 1)
        self.post_quant_conv = nn.Conv2d(cfg.codebook_embed_dim, cfg.z_channels, 1)

    def encode_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.quant_conv(self.encoder(x))

    def encode_ids(self, x: torch.Tensor) -> torch.Tensor:
        return self.quantize.indices(self.encode_features(x))

    def decode(self, quant: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.post_quant_conv(quant))

    def decode_ids(self, ids: torch.Tensor) -> torch.Tensor:
        quant = self.quantize.lookup(ids).permute(0, 3, 1, 2)
        return self.decode(quant)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Returns (reconstruction, vq loss, ids, pre-quant features)."""
        z = self.encode_features(x)
        zq, loss, ids = self.quantize(z)
        return self.decode(zq), loss, ids, z
