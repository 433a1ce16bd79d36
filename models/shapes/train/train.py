"""Train the shapes model: a KL VAE on the synthetic images, then a text encoder + U-Net on its latents.

Stock diffusers/transformers classes, SD 1.x layout and noise schedule. Deterministic for a given seed and
thread count (torch CPU). Writes a diffusers pipeline folder (save_pretrained) and train_log.json.

    python train.py --out build/pipeline [--vae-iters N] [--unet-iters N]
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from diffusers import AutoencoderKL, DDPMScheduler, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
from transformers import CLIPTextModel, CLIPTokenizer

import configs
import shapes_data

HERE = Path(__file__).resolve().parent
VOCAB = HERE.parents[2] / "assets" / "clip-vocab"


def new_tokenizer() -> CLIPTokenizer:
    return CLIPTokenizer(str(VOCAB / "vocab.json"), str(VOCAB / "merges.txt"))


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 [n,H,W,3] -> float32 [n,3,H,W] in [-1, 1], as VaeImageProcessor normalises."""
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def warmup_lr(step: int, base: float, warmup: int) -> float:
    """Linear warm-up, then constant: a run stopped at step N equals a run of N steps (checkpoints are models)."""
    return base * min(1.0, (step + 1) / warmup)


def random_crops(x: torch.Tensor, size: int, rng: np.random.Generator) -> torch.Tensor:
    """The VAE is convolutional: training it on 32x32 crops costs a quarter of full images."""
    out = []
    for img in x:
        i, j = rng.integers(0, x.shape[-1] - size + 1, size=2)
        out.append(img[:, i:i + size, j:j + size])
    return torch.stack(out)


def train_vae(vae: AutoencoderKL, iters: int, rng: np.random.Generator, log: list) -> None:
    # Start with a small posterior variance (log-variance bias -6): with the default 0 the decoder first sees
    # mostly sampling noise and learns slowly; the KL term then raises the variance as far as it costs little.
    with torch.no_grad():
        vae.encoder.conv_out.bias[vae.config.latent_channels:] = -6.0
    opt = torch.optim.Adam(vae.parameters(), lr=1e-3)
    for step in range(iters):
        for g in opt.param_groups:
            # The VAE stage runs to its end (no checkpoints): decay over its last third for clean reconstructions.
            g["lr"] = warmup_lr(step, 1e-3, 20) * min(1.0, 3.0 * (iters - step) / iters)
        x = random_crops(to_tensor(shapes_data.sample_batch(rng, 16)[0]), 32, rng)
        post = vae.encode(x).latent_dist
        recon = vae.decode(post.sample()).sample
        rec = F.mse_loss(recon, x)
        kl = post.kl().mean()
        loss = rec + 1e-5 * kl
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 25 == 0 or step == iters - 1:
            log.append({"stage": "vae", "step": step, "recon_mse": rec.item(), "kl": kl.item(), "t": time.time()})
            print(f"vae {step:5d} recon {rec.item():.5f} kl {kl.item():.1f}", flush=True)


@torch.no_grad()
def encode_dataset(vae: AutoencoderKL, n: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    means, stds, caps = [], [], []
    for start in range(0, n, 100):
        imgs, c = shapes_data.sample_batch(rng, min(100, n - start))
        dist = vae.encode(to_tensor(imgs)).latent_dist
        means.append(dist.mean)
        stds.append(dist.std)
        caps += c
    return torch.cat(means), torch.cat(stds), caps


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(HERE / "build" / "pipeline"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--vae-iters", type=int, default=500)
    ap.add_argument("--dataset", type=int, default=6000)
    ap.add_argument("--unet-iters", type=int, default=4000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--checkpoint-every", type=int, default=250)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)  # results depend on it (reduction order): recorded in train_log.json
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    t_start = time.time()
    log: list = []

    tokenizer = new_tokenizer()
    text_encoder = CLIPTextModel(configs.TEXT_ENCODER)
    unet = UNet2DConditionModel(**configs.UNET)
    vae = AutoencoderKL(**configs.VAE)

    vae_ckpt = Path(args.out + "-vae.pt")
    if vae_ckpt.exists():  # the VAE stage is deterministic; reuse it when only the U-Net stage changes
        state = torch.load(vae_ckpt, weights_only=False)  # our own file
        vae.load_state_dict(state["vae"])
        log += state["log"]
        rng = state["rng"]
    else:
        train_vae(vae, args.vae_iters, rng, log)
        vae_ckpt.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"vae": vae.state_dict(), "log": log, "rng": rng}, vae_ckpt)
    vae.eval().requires_grad_(False)
    t_vae = time.time()

    means, stds, caps = encode_dataset(vae, args.dataset, rng)
    scaling = float(1.0 / means.std())
    vae.register_to_config(scaling_factor=round(scaling, 5))
    print(f"latent std {means.std().item():.4f} -> scaling_factor {vae.config.scaling_factor}", flush=True)

    ids_of = {c: tokenizer(c, padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids[0] for c in set(caps) | {""}}
    ids = torch.stack([ids_of[c] for c in caps])
    empty = ids_of[""]

    noise_sched = DDPMScheduler.from_config(configs.SCHEDULER)
    params = list(unet.parameters()) + list(text_encoder.parameters())
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=1e-2)
    ema = [p.detach().clone() for p in params]
    gen = torch.Generator().manual_seed(args.seed + 1)
    for step in range(args.unet_iters):
        for g in opt.param_groups:
            g["lr"] = warmup_lr(step, 1e-3, 100)
        idx = torch.randint(0, len(caps), (args.batch,), generator=gen)
        z = (means[idx] + stds[idx] * torch.randn(means[idx].shape, generator=gen)) * vae.config.scaling_factor
        batch_ids = ids[idx].clone()
        batch_ids[torch.rand(args.batch, generator=gen) < 0.1] = empty  # unconditional 10%: classifier-free guidance
        noise = torch.randn(z.shape, generator=gen)
        t = torch.randint(0, 1000, (args.batch,), generator=gen)
        noisy = noise_sched.add_noise(z, noise, t)
        pred = unet(noisy, t, text_encoder(batch_ids)[0]).sample
        loss = F.mse_loss(pred, noise)
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            decay = min(0.999, (1 + step) / (10 + step))
            for e, p in zip(ema, params):
                e.mul_(decay).add_(p.detach(), alpha=1 - decay)
        if step % 50 == 0 or step == args.unet_iters - 1:
            log.append({"stage": "unet", "step": step, "loss": loss.item(), "t": time.time()})
            print(f"unet {step:5d} loss {loss.item():.4f} {time.time() - t_start:.0f}s", flush=True)
        if (step + 1) % args.checkpoint_every == 0 and step + 1 < args.unet_iters:
            save(args, f"{args.out}-ckpt{step + 1}", unet, text_encoder, vae, tokenizer, ema, params, log, t_start, t_vae, step + 1)
    save(args, args.out, unet, text_encoder, vae, tokenizer, ema, params, log, t_start, t_vae, args.unet_iters)


def save(args, out, unet, text_encoder, vae, tokenizer, ema, params, log, t_start, t_vae, iters) -> None:
    """The pipeline with the EMA weights (the live weights are restored afterwards)."""
    live = [p.detach().clone() for p in params]
    with torch.no_grad():
        for e, p in zip(ema, params):
            p.copy_(e)
    pipe = StableDiffusionPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=new_tokenizer(), unet=unet,  # fresh: save_pretrained mutates it
        scheduler=PNDMScheduler.from_config(configs.SCHEDULER), safety_checker=None, feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(out, safe_serialization=False)
    with torch.no_grad():
        for l, p in zip(live, params):
            p.copy_(l)
    summary = {
        "seed": args.seed, "vae_iters": args.vae_iters, "unet_iters": iters, "batch": args.batch,
        "dataset_images": args.dataset, "scaling_factor": vae.config.scaling_factor,
        "seconds_vae": t_vae - t_start, "seconds_total": time.time() - t_start,
        "torch": torch.__version__, "threads": torch.get_num_threads(), "log": log,
    }
    Path(out, "train_log.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps({k: v for k, v in summary.items() if k != "log"}))


if __name__ == "__main__":
    main()
