#!/usr/bin/python3
"""PyTorch reference of the foundation UNet (lib/ConceptErasure/Models/UNet.cs).

The network is written here as diffusers writes UNet2DConditionModel (Timesteps with flip_sin_to_cos=True and
freq_shift=0, TimestepEmbedding, ResnetBlock2D, Transformer2DModel with 1x1-conv proj_in/proj_out and a GroupNorm
of eps 1e-6, BasicTransformerBlock with LayerNorm -> attn1 / attn2 / GEGLU feed-forward, stride-2 conv downsampling,
nearest x2 upsampling + 3x3 conv, skips consumed last-in first-out), with the same module names, so the shipped
unet.safetensors loads into it strictly. Two modes:

  parity FILE   FILE (written by `workbook bench unet-reference --out FILE`) holds sample, timestep,
                encoder_hidden_states and the C# UNet's output; PyTorch's output is compared with it
                (exit 1 if the max abs difference exceeds --tol, default 1e-4).
  bench         one training step (forward + MSE + backward + AdamW step) at --batch on random inputs, and
                batch-1 forward+backward; median ms over --steps after 3 warm-ups.

For a like-for-like timing, give Python the malloc settings the C# bridge sets itself (concept_torch.cpp,
keep_freed_memory: without them glibc mmaps/unmaps every large activation and the batch-64 step is much slower):
  GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824 \
      /usr/bin/python3 tests/reference/unet_reference.py bench --threads 1

Needs only torch (Debian's python3-torch 1.13: run with /usr/bin/python3), json, struct, argparse, time.
"""
import argparse
import json
import math
import os
import struct
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    sys.exit("unet_reference.py: no torch module in this Python; use Debian's: /usr/bin/python3 (apt-get install python3-torch)")

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
MODEL_DIR = os.path.join(ROOT, "data", "models", "foundation")


# ---- safetensors, read by hand ---------------------------------------------------------------------------------
_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool,
}


def load_safetensors(path):
    """{name: tensor} from a safetensors file: u64 LE header length, JSON header, raw little-endian data."""
    if sys.byteorder != "little":
        raise RuntimeError("this reader assumes a little-endian machine")
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError(f"{path}: header length {n} runs past the end of the file")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = bytearray(raw[8 + n:])   # writable, so torch.frombuffer does not warn; tensors are cloned out of it
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = _DTYPES.get(info["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: tensor '{name}' has unsupported dtype {info['dtype']}")
        shape = [int(s) for s in info["shape"]]
        begin, end = (int(o) for o in info["data_offsets"])
        itemsize = torch.empty((), dtype=dtype).element_size()
        count = math.prod(shape)
        if end - begin != count * itemsize or end > len(data):
            raise ValueError(f"{path}: tensor '{name}' {info['dtype']}{shape} has data_offsets [{begin}, {end}] "
                             f"({end - begin} bytes, expected {count * itemsize}, file data {len(data)} bytes)")
        if count == 0:
            t = torch.empty(shape, dtype=dtype)
        else:
            t = torch.frombuffer(data, dtype=dtype, count=count, offset=begin).reshape(shape).clone()
        out[name] = t
    return out


# ---- the network (diffusers' UNet2DConditionModel, cut to what model.json can express) ----------------------------
def timestep_embedding(timesteps, dim, flip_sin_to_cos=True, downscale_freq_shift=0.0, max_period=10000):
    """diffusers.models.embeddings.get_timestep_embedding."""
    half = dim // 2
    exponent = -math.log(max_period) * torch.arange(0, half, dtype=torch.float32, device=timesteps.device)
    exponent = exponent / (half - downscale_freq_shift)
    emb = timesteps[:, None].float() * torch.exp(exponent)[None, :]
    emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=-1)
    if flip_sin_to_cos:
        emb = torch.cat([emb[:, half:], emb[:, :half]], dim=-1)
    if dim % 2 == 1:
        emb = F.pad(emb, (0, 1, 0, 0))
    return emb


class TimestepEmbedding(nn.Module):
    def __init__(self, in_dim, time_embed_dim):
        super().__init__()
        self.linear_1 = nn.Linear(in_dim, time_embed_dim)
        self.linear_2 = nn.Linear(time_embed_dim, time_embed_dim)

    def forward(self, x):
        return self.linear_2(F.silu(self.linear_1(x)))


class ResnetBlock2D(nn.Module):
    def __init__(self, in_ch, out_ch, temb_ch, groups, eps):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, in_ch, eps=eps)
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb_ch, out_ch)
        self.norm2 = nn.GroupNorm(groups, out_ch, eps=eps)
        self.dropout = nn.Dropout(0.0)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(in_ch, out_ch, 1) if in_ch != out_ch else None

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        skip = x if self.conv_shortcut is None else self.conv_shortcut(x)
        return skip + h   # output_scale_factor 1


class Attention(nn.Module):
    def __init__(self, query_dim, context_dim, heads, dim_head):
        super().__init__()
        inner = heads * dim_head
        self.heads, self.scale = heads, dim_head ** -0.5
        self.to_q = nn.Linear(query_dim, inner, bias=False)
        self.to_k = nn.Linear(context_dim or query_dim, inner, bias=False)
        self.to_v = nn.Linear(context_dim or query_dim, inner, bias=False)
        self.to_out = nn.ModuleList([nn.Linear(inner, query_dim), nn.Dropout(0.0)])

    def forward(self, x, context=None):
        c = x if context is None else context
        B, T, _ = x.shape
        S = c.shape[1]
        h = self.heads
        q = self.to_q(x).view(B, T, h, -1).transpose(1, 2)
        k = self.to_k(c).view(B, S, h, -1).transpose(1, 2)
        v = self.to_v(c).view(B, S, h, -1).transpose(1, 2)
        w = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * self.scale, dim=-1)   # (B, h, T, S)
        o = torch.matmul(w, v).transpose(1, 2).reshape(B, T, -1)
        return self.to_out[1](self.to_out[0](o))


class GEGLU(nn.Module):
    def __init__(self, dim_in, dim_out):
        super().__init__()
        self.proj = nn.Linear(dim_in, dim_out * 2)

    def forward(self, x):
        hidden, gate = self.proj(x).chunk(2, dim=-1)
        return hidden * F.gelu(gate)   # exact (erf) GELU


class FeedForward(nn.Module):
    def __init__(self, dim, mult=4):
        super().__init__()
        self.net = nn.ModuleList([GEGLU(dim, dim * mult), nn.Dropout(0.0), nn.Linear(dim * mult, dim)])

    def forward(self, x):
        for m in self.net:
            x = m(x)
        return x


class BasicTransformerBlock(nn.Module):
    def __init__(self, dim, heads, context_dim):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn1 = Attention(dim, None, heads, dim // heads)
        self.norm2 = nn.LayerNorm(dim)
        self.attn2 = Attention(dim, context_dim, heads, dim // heads)
        self.norm3 = nn.LayerNorm(dim)
        self.ff = FeedForward(dim)

    def forward(self, x, context):
        x = self.attn1(self.norm1(x)) + x
        x = self.attn2(self.norm2(x), context) + x
        return self.ff(self.norm3(x)) + x


class Transformer2DModel(nn.Module):
    def __init__(self, channels, heads, context_dim, groups):
        super().__init__()
        self.norm = nn.GroupNorm(groups, channels, eps=1e-6)
        self.proj_in = nn.Conv2d(channels, channels, 1)
        self.transformer_blocks = nn.ModuleList([BasicTransformerBlock(channels, heads, context_dim)])
        self.proj_out = nn.Conv2d(channels, channels, 1)

    def forward(self, x, context):
        B, C, H, W = x.shape
        h = self.proj_in(self.norm(x))
        h = h.permute(0, 2, 3, 1).reshape(B, H * W, C)
        for block in self.transformer_blocks:
            h = block(h, context)
        h = h.reshape(B, H, W, C).permute(0, 3, 1, 2).contiguous()
        return self.proj_out(h) + x


class Downsample2D(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)


class Upsample2D(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class DownBlock(nn.Module):
    """CrossAttnDownBlock2D (attention=True) or DownBlock2D."""

    def __init__(self, in_ch, out_ch, temb, layers, attention, downsample, cfg):
        super().__init__()
        g, eps = cfg["norm_num_groups"], cfg["norm_eps"]
        self.resnets = nn.ModuleList([ResnetBlock2D(in_ch if i == 0 else out_ch, out_ch, temb, g, eps) for i in range(layers)])
        self.attentions = nn.ModuleList([Transformer2DModel(out_ch, cfg["attention_heads"], cfg["cross_attention_dim"], g)
                                         for _ in range(layers)]) if attention else None
        self.downsamplers = nn.ModuleList([Downsample2D(out_ch)]) if downsample else None

    def forward(self, x, temb, context):
        states = []
        for i, resnet in enumerate(self.resnets):
            x = resnet(x, temb)
            if self.attentions is not None:
                x = self.attentions[i](x, context)
            states.append(x)
        if self.downsamplers is not None:
            x = self.downsamplers[0](x)
            states.append(x)
        return x, states


class UpBlock(nn.Module):
    """CrossAttnUpBlock2D (attention=True) or UpBlock2D."""

    def __init__(self, in_ch, prev_out_ch, out_ch, temb, layers, attention, upsample, cfg):
        super().__init__()
        g, eps = cfg["norm_num_groups"], cfg["norm_eps"]
        resnets = []
        for i in range(layers):
            res_skip = in_ch if i == layers - 1 else out_ch
            res_in = prev_out_ch if i == 0 else out_ch
            resnets.append(ResnetBlock2D(res_in + res_skip, out_ch, temb, g, eps))
        self.resnets = nn.ModuleList(resnets)
        self.attentions = nn.ModuleList([Transformer2DModel(out_ch, cfg["attention_heads"], cfg["cross_attention_dim"], g)
                                         for _ in range(layers)]) if attention else None
        self.upsamplers = nn.ModuleList([Upsample2D(out_ch)]) if upsample else None

    def forward(self, x, temb, context, skips):
        for i, resnet in enumerate(self.resnets):
            x = resnet(torch.cat([x, skips.pop()], dim=1), temb)
            if self.attentions is not None:
                x = self.attentions[i](x, context)
        if self.upsamplers is not None:
            x = self.upsamplers[0](x)
        return x


class MidBlock(nn.Module):
    """UNetMidBlock2DCrossAttn: resnet -> transformer -> resnet."""

    def __init__(self, ch, temb, attention, cfg):
        super().__init__()
        g, eps = cfg["norm_num_groups"], cfg["norm_eps"]
        self.resnets = nn.ModuleList([ResnetBlock2D(ch, ch, temb, g, eps), ResnetBlock2D(ch, ch, temb, g, eps)])
        self.attentions = nn.ModuleList([Transformer2DModel(ch, cfg["attention_heads"], cfg["cross_attention_dim"], g)]) if attention else None

    def forward(self, x, temb, context):
        x = self.resnets[0](x, temb)
        if self.attentions is not None:
            x = self.attentions[0](x, context)
        return self.resnets[1](x, temb)


class UNet2DConditionModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        ch = cfg["block_out_channels"]
        n = len(ch)
        temb = ch[0] * 4
        self.conv_in = nn.Conv2d(cfg["in_channels"], ch[0], 3, padding=1)
        self.time_embedding = TimestepEmbedding(ch[0], temb)
        self.down_blocks = nn.ModuleList([
            DownBlock(ch[0] if i == 0 else ch[i - 1], ch[i], temb, cfg["layers_per_block"],
                      cfg["down_block_types"][i] == "CrossAttnDownBlock2D", i < n - 1, cfg) for i in range(n)])
        self.mid_block = MidBlock(ch[-1], temb, cfg.get("mid_block_attention", True), cfg)
        rev = list(reversed(ch))
        self.up_blocks = nn.ModuleList([
            UpBlock(rev[min(i + 1, n - 1)], rev[0] if i == 0 else rev[i - 1], rev[i], temb, cfg["layers_per_block"] + 1,
                    cfg["up_block_types"][i] == "CrossAttnUpBlock2D", i < n - 1, cfg) for i in range(n)])
        self.conv_norm_out = nn.GroupNorm(cfg["norm_num_groups"], ch[0], eps=cfg["norm_eps"])
        self.conv_out = nn.Conv2d(ch[0], cfg["out_channels"], 3, padding=1)

    def forward(self, sample, timestep, context):
        temb = self.time_embedding(timestep_embedding(timestep, self.cfg["block_out_channels"][0]))
        x = self.conv_in(sample)
        skips = [x]
        for block in self.down_blocks:
            x, states = block(x, temb, context)
            skips.extend(states)
        x = self.mid_block(x, temb, context)
        for block in self.up_blocks:
            x = block(x, temb, context, skips)
        assert not skips, f"{len(skips)} skip connections left unused"
        return self.conv_out(F.silu(self.conv_norm_out(x)))


def load_config(model_dir):
    with open(os.path.join(model_dir, "model.json")) as f:
        return json.load(f)


def build_model(model_dir):
    """The UNet of model.json, with unet.safetensors loaded strictly: every key used, every shape equal."""
    cfg = load_config(model_dir)
    unet_cfg = cfg["unet"]
    known = {"sample_size", "in_channels", "out_channels", "block_out_channels", "down_block_types", "up_block_types",
             "layers_per_block", "attention_heads", "cross_attention_dim", "norm_num_groups", "norm_eps",
             "mid_block_attention", "prediction_type"}
    unknown = set(unet_cfg) - known
    if unknown:
        raise SystemExit(f"model.json unet: keys this reference does not implement: {sorted(unknown)}")
    model = UNet2DConditionModel(unet_cfg)
    weights = load_safetensors(os.path.join(model_dir, "unet.safetensors"))
    own = model.state_dict()
    missing = sorted(set(own) - set(weights))
    unexpected = sorted(set(weights) - set(own))
    wrong = sorted(f"{k}: file {list(weights[k].shape)} {weights[k].dtype}, model {list(own[k].shape)} {own[k].dtype}"
                   for k in set(own) & set(weights) if weights[k].shape != own[k].shape or weights[k].dtype != own[k].dtype)
    if missing or unexpected or wrong:
        lines = [f"unet.safetensors does not fit the reference UNet ({len(weights)} tensors in the file, {len(own)} in the model):"]
        lines += [f"  missing in file: {k}" for k in missing]
        lines += [f"  unused from file: {k}" for k in unexpected]
        lines += [f"  shape/dtype: {k}" for k in wrong]
        raise SystemExit("\n".join(lines))
    model.load_state_dict(weights, strict=True)
    return model, cfg


# ---- modes ---------------------------------------------------------------------------------------------------------
def parity(args):
    model, _ = build_model(args.model)
    model.eval()
    t = load_safetensors(args.file)
    for k in ("sample", "timestep", "encoder_hidden_states", "output"):
        if k not in t:
            raise SystemExit(f"{args.file}: no tensor '{k}' (has {sorted(t)})")
    sample, timestep, ctx, expected = t["sample"], t["timestep"], t["encoder_hidden_states"], t["output"]
    print(f"sample {list(sample.shape)} {sample.dtype}, timestep {timestep.tolist()}, "
          f"encoder_hidden_states {list(ctx.shape)}, output {list(expected.shape)}")
    with torch.no_grad():
        out = model(sample, timestep, ctx)
    if out.shape != expected.shape:
        raise SystemExit(f"shape mismatch: PyTorch {list(out.shape)}, C# {list(expected.shape)}")
    diff = (out.double() - expected.double()).abs()
    max_abs = diff.max().item()
    rel = ((out.double() - expected.double()).norm() / expected.double().norm()).item()
    per_item = diff.flatten(1).max(1).values.tolist()
    print(f"parameters {sum(p.numel() for p in model.parameters()):,}, threads {torch.get_num_threads()}, torch {torch.__version__}")
    print(f"|output| max {expected.abs().max().item():.4f}, rms {expected.pow(2).mean().sqrt().item():.4f}")
    print(f"max abs diff {max_abs:.3e}  (per sample: {', '.join(f'{d:.2e}' for d in per_item)})")
    print(f"relative error ||torch - C#|| / ||C#|| = {rel:.3e}")
    ok = max_abs <= args.tol
    print(f"{'PASS' if ok else 'FAIL'}: max abs diff {'<=' if ok else '>'} {args.tol:g}")
    return 0 if ok else 1


def _median(xs):
    s = sorted(xs)
    return s[len(s) // 2]


def bench(args):
    model, cfg = build_model(args.model)
    u = cfg["unet"]
    S = cfg["text_encoder"]["max_position_embeddings"]
    C, hw, D = u["in_channels"], u["sample_size"], u["cross_attention_dim"]
    torch.manual_seed(0)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=0.01)   # DiffusionTraining's optimizer
    B = args.batch
    z = torch.randn(B, C, hw, hw)
    t = torch.randint(0, 1000, (B,))
    ctx = torch.randn(B, S, D)
    target = torch.randn(B, u["out_channels"], hw, hw)

    def train_step():
        opt.zero_grad(set_to_none=True)
        loss = F.mse_loss(model(z, t, ctx), target)
        loss.backward()
        opt.step()

    z1, t1, c1 = torch.randn(1, C, hw, hw), torch.randint(0, 1000, (1,)), torch.randn(1, S, D)

    def fwd_bwd_1():
        model.zero_grad(set_to_none=True)
        model(z1, t1, c1).square().mean().backward()

    def timed(fn):   # (median wall ms, median process CPU ms): CPU time is steadier on a shared machine
        for _ in range(3):
            fn()
        wall, cpu = [], []
        for _ in range(args.steps):
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            wall.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        return _median(wall), _median(cpu)

    ms_train, cpu_train = timed(train_step)
    ms_one, cpu_one = timed(fwd_bwd_1)
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, {sum(p.numel() for p in model.parameters()):,} parameters, "
          f"latents {C}x{hw}x{hw}, context {S}x{D}; median of {args.steps} after 3 warm-ups; "
          f"GLIBC_TUNABLES={os.environ.get('GLIBC_TUNABLES', '(unset)')}")
    print("| step | batch | ms/step | CPU ms/step | images/s |")
    print("|---|---|---|---|---|")
    print(f"| train step (fwd + MSE + bwd + AdamW) | {B} | {ms_train:.1f} | {cpu_train:.1f} | {B * 1000 / ms_train:.1f} |")
    print(f"| fwd + bwd | 1 | {ms_one:.2f} | {cpu_one:.2f} | {1000 / ms_one:.1f} |")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=MODEL_DIR, help="model folder with model.json and unet.safetensors (default: the shipped foundation)")
    sub = p.add_subparsers(dest="mode", required=True)
    pp = sub.add_parser("parity", help="compare with the C# UNet's output on the same inputs")
    pp.add_argument("file", help="safetensors with sample, timestep, encoder_hidden_states, output")
    pp.add_argument("--tol", type=float, default=1e-4, help="max abs difference allowed (default 1e-4)")
    pp.add_argument("--threads", type=int, default=1)
    pb = sub.add_parser("bench", help="time the training step and batch-1 forward+backward")
    pb.add_argument("--batch", type=int, default=64)
    pb.add_argument("--threads", type=int, default=2)
    pb.add_argument("--steps", type=int, default=20)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    return parity(args) if args.mode == "parity" else bench(args)


if __name__ == "__main__":
    sys.exit(main())
