"""Transformer pieces with timm's and open_clip's parameter names.

We define them ourselves (instead of importing timm/open_clip) because the export graphs must stay
simple for onnxruntime-web (explicit softmax attention, constant masks) while the state-dict keys
stay those of the official TokLIP checkpoints.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def make_act(name: str) -> nn.Module:
    if name == "gelu":
        return nn.GELU()
    if name == "gelu_tanh":
        return nn.GELU(approximate="tanh")
    raise ValueError(f"unknown activation {name!r}")


def causal_mask(n: int) -> torch.Tensor:
    """Additive mask: position i may attend to j <= i (TokLIP's causal ViT)."""
    return torch.full((n, n), float("-inf")).triu_(1)


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """q,k,v: [B, heads, N, hd]. Plain softmax attention; exports to MatMul/Softmax only."""
    if torch.jit.is_tracing() or torch.onnx.is_in_onnx_export():
        w = torch.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1]))
        if mask is not None:
            w = w + mask
        return torch.matmul(torch.softmax(w, dim=-1), v)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int, act: str) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = make_act(act)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Attention(nn.Module):
    """timm ``Attention``: fused qkv projection, then proj."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        out = attention(qkv[0], qkv[1], qkv[2], mask)
        return self.proj(out.transpose(1, 2).reshape(b, n, c))


class Block(nn.Module):
    """timm ViT block (pre-norm, LayerNorm eps 1e-6 as in SigLIP)."""

    def __init__(self, dim: int, heads: int, mlp_hidden: int, act: str) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, mlp_hidden, act)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.attn(self.norm1(x), mask)
        return x + self.mlp(self.norm2(x))


class AttentionPoolLatent(nn.Module):
    """timm's MAP head: one learned latent query attends over all tokens, then an MLP."""

    def __init__(self, dim: int, heads: int, mlp_hidden: int, act: str) -> None:
        super().__init__()
        self.heads = heads
        self.latent = nn.Parameter(torch.zeros(1, 1, dim))
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, dim * 2)
        self.proj = nn.Linear(dim, dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, mlp_hidden, act)
        nn.init.trunc_normal_(self.latent, std=dim**-0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        hd = c // self.heads
        q = self.q(self.latent.expand(b, -1, -1)).reshape(b, 1, self.heads, hd).transpose(1, 2)
        kv = self.kv(x).reshape(b, n, 2, self.heads, hd).permute(2, 0, 3, 1, 4)
        out = attention(q, kv[0], kv[1], None).transpose(1, 2).reshape(b, 1, c)
        out = self.proj(out)
        out = out + self.mlp(self.norm(out))
        return out[:, 0]


class TextAttention(nn.Module):
    """open_clip's nn.MultiheadAttention layout (in_proj_weight/bias, out_proj)."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * dim, dim))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * dim))
        self.out_proj = nn.Linear(dim, dim)
        nn.init.xavier_uniform_(self.in_proj_weight)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        b, n, c = x.shape
        qkv = F.linear(x, self.in_proj_weight, self.in_proj_bias)
        qkv = qkv.reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        out = attention(qkv[0], qkv[1], qkv[2], mask)
        return self.out_proj(out.transpose(1, 2).reshape(b, n, c))


class TextMlp(nn.Module):
    def __init__(self, dim: int, hidden: int, act: str) -> None:
        super().__init__()
        self.c_fc = nn.Linear(dim, hidden)
        self.gelu = make_act(act)
        self.c_proj = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c_proj(self.gelu(self.c_fc(x)))


class ResidualAttentionBlock(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_hidden: int, act: str, eps: float) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(dim, eps=eps)
        self.attn = TextAttention(dim, heads)
        self.ln_2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = TextMlp(dim, mlp_hidden, act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))
