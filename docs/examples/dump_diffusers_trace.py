"""Record a diffusers pipeline run as a lockstep trace (docs/trace-format.md, format lockstep.trace/1.1).

Not a lockstep dependency and not run by its tests: a starting point for recording a reference (or a
candidate) with PyTorch on any device. It runs the pipeline's UNMODIFIED `__call__` and only observes it:
forward hooks on the U-Net, the VAE encoder and decoder, `callback_on_step_end` for the latents (and
LCM's denoised sample) after each scheduler step, and recording wrappers around `scheduler.add_noise` and
the VAE's latent-distribution sampling (each calls the original and returns its result untouched).

Families (the pipeline class comes from the folder's model_index.json, or --pipeline):
  sd     StableDiffusionPipeline (SD 1.x, 2.x, Turbo) / StableDiffusionImg2ImgPipeline with --image
  lcm    LatentConsistencyModelPipeline (no classifier-free batch; w-embedding fed as timestep_cond)
  sdxl   StableDiffusionXLPipeline / StableDiffusionXLImg2ImgPipeline with --image

Needs diffusers 0.27.x, transformers ≥ 4.38 and torch ≥ 2.0 (forward hooks with kwargs); verified with
diffusers 0.27.2, transformers 4.38 and torch 2.13 (CPU) by lockstep's scripts/reference/families.py.

    python dump_diffusers_trace.py MODEL_DIR OUT_TRACE --prompt "..." --seed 42 --steps 10 \
        [--scheduler DDIMScheduler] [--image in.png --strength 0.8] [--device cuda] [--dtype float16]

The initial noise is drawn with a CPU torch.Generator (what lockstep reproduces bit for bit), whatever
--device is; the U-Net and VAE run on --device in --dtype.
"""
import argparse, json, os

import numpy as np
import torch

FORMAT = "lockstep.trace/1.1"
CLASSES = {
    ("sd", False): "StableDiffusionPipeline", ("sd", True): "StableDiffusionImg2ImgPipeline",
    ("lcm", False): "LatentConsistencyModelPipeline", ("lcm", True): "LatentConsistencyModelImg2ImgPipeline",
    ("sdxl", False): "StableDiffusionXLPipeline", ("sdxl", True): "StableDiffusionXLImg2ImgPipeline",
}


def family_of(model_dir):
    """sd, lcm or sdxl, from model_index.json's _class_name and the U-Net config, as lockstep detects it."""
    index = json.load(open(os.path.join(model_dir, "model_index.json")))
    name = index.get("_class_name", "")
    if "XL" in name or "text_encoder_2" in index:
        return "sdxl"
    if "LatentConsistency" in name:
        return "lcm"
    return "sd"


def load_pipeline(model_dir, family, img2img, dtype=torch.float32, device="cpu"):
    import diffusers
    cls = getattr(diffusers, CLASSES[(family, img2img)])
    extra = {"safety_checker": None, "requires_safety_checker": False} if family in ("sd", "lcm") else {}
    return cls.from_pretrained(model_dir, torch_dtype=dtype, **extra).to(device)


class Recorder:
    """Writes .npy files and remembers their manifest entries."""

    def __init__(self, out):
        self.out, self.files = out, {}

    def save(self, name, t):
        arr = t.detach().float().cpu().numpy() if torch.is_tensor(t) and t.is_floating_point() else t
        arr = np.ascontiguousarray(arr.detach().cpu().numpy() if torch.is_tensor(arr) else arr)
        path = os.path.join(self.out, name + ".npy")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        np.save(path, arr)
        self.files[name + ".npy"] = {"dtype": str(arr.dtype), "shape": list(arr.shape)}
        # returns None: a forward hook that returned a value would replace the module's output


def token_ids(tokenizer, text):
    return tokenizer(text, padding="max_length", max_length=tokenizer.model_max_length, truncation=True,
                     return_tensors="pt").input_ids


def record(pipe, out, *, family, prompt, negative_prompt="", seed=0, steps=10, guidance=7.5, height=64, width=64,
           image=None, strength=None):
    """Runs pipe.__call__ once and writes the trace to `out`. `image` is a PIL image for image-to-image."""
    from diffusers.models.autoencoders.vae import DiagonalGaussianDistribution

    rec, state = Recorder(out), {"i": 0}
    img2img = image is not None
    hooks = []

    def unet_hook(module, args, kwargs, output):
        d = f"steps/{state['i']:03d}"
        sample = kwargs.get("sample", args[0] if args else None)
        t = kwargs.get("timestep", args[1] if len(args) > 1 else None)
        emb = kwargs.get("encoder_hidden_states", args[2] if len(args) > 2 else None)
        if state["i"] == 0:
            rec.save("text/prompt_embeds", emb)
            if kwargs.get("timestep_cond") is not None:
                rec.save("cond/timestep_cond", kwargs["timestep_cond"])
            added = kwargs.get("added_cond_kwargs") or {}
            for key in ("text_embeds", "time_ids"):
                if key in added:
                    rec.save(f"cond/{key}", added[key])
        rec.save(f"{d}/timestep", torch.as_tensor(t).reshape(-1)[:1])
        rec.save(f"{d}/latent_model_input", sample)
        pred = output[0] if isinstance(output, tuple) else output.sample
        if getattr(pipe, "do_classifier_free_guidance", False):
            uncond, text = pred.chunk(2)
            rec.save(f"{d}/noise_pred_uncond", uncond)
            rec.save(f"{d}/noise_pred_text", text)
            rec.save(f"{d}/noise_pred", uncond + pipe.guidance_scale * (text - uncond))  # the pipeline's arithmetic
        else:
            rec.save(f"{d}/noise_pred_text", pred)
            rec.save(f"{d}/noise_pred", pred)

    hooks.append(pipe.unet.register_forward_hook(unet_hook, with_kwargs=True))
    hooks.append(pipe.vae.decoder.register_forward_hook(lambda m, i, o: rec.save("final/decoded", o)))
    if img2img:
        hooks.append(pipe.vae.encoder.register_forward_hook(lambda m, i, o: rec.save("image/input", i[0])))
        hooks.append(pipe.vae.quant_conv.register_forward_hook(lambda m, i, o: rec.save("image/latent_parameters", o)))
        original_sample = DiagonalGaussianDistribution.sample

        def sample_and_record(self, generator=None):
            z = original_sample(self, generator)
            rec.save("image/latent_sample", z)
            return z

        DiagonalGaussianDistribution.sample = sample_and_record
        original_add_noise = pipe.scheduler.add_noise

        def add_noise_and_record(original, noise, timesteps):
            noisy = original_add_noise(original, noise, timesteps)
            rec.save("image/init_latents", original)
            rec.save("latents/initial", noise)
            rec.save("image/latent_timestep", timesteps.reshape(-1)[:1])
            rec.save("latents/scaled", noisy)
            return noisy

        pipe.scheduler.add_noise = add_noise_and_record

    def on_step_end(p, i, t, kw):
        rec.save(f"steps/{i:03d}/latents", kw["latents"])
        if "denoised" in kw:
            rec.save(f"steps/{i:03d}/denoised", kw["denoised"])
        state["i"] = i + 1
        return kw

    tokenizers = [pipe.tokenizer] + ([pipe.tokenizer_2] if getattr(pipe, "tokenizer_2", None) is not None else [])
    guided = family != "lcm" and guidance > 1 and (family != "sd" or pipe.unet.config.time_cond_proj_dim is None)
    zero_uncond = family == "sdxl" and not negative_prompt and pipe.config.force_zeros_for_empty_prompt
    for k, tok in enumerate(tokenizers):
        suffix = "" if k == 0 else "_2"
        rec.save(f"text/cond_ids{suffix}", token_ids(tok, prompt))
        if guided and not zero_uncond:
            rec.save(f"text/uncond_ids{suffix}", token_ids(tok, negative_prompt))

    gen = torch.Generator("cpu").manual_seed(seed)
    kwargs = dict(num_inference_steps=steps, guidance_scale=guidance, generator=gen, output_type="pil",
                  callback_on_step_end=on_step_end,
                  callback_on_step_end_tensor_inputs=["latents", "denoised"] if family == "lcm" else ["latents"])
    if family != "lcm":
        kwargs["negative_prompt"] = negative_prompt or None
    if img2img:
        kwargs.update(image=image, strength=strength)
    else:
        f = pipe.vae_scale_factor
        initial = torch.randn((1, pipe.unet.config.in_channels, height // f, width // f), generator=gen)
        rec.save("latents/initial", initial)  # passing it in keeps the generator where diffusers would have left it
        kwargs.update(height=height, width=width, latents=initial.to(pipe.unet.device, pipe.unet.dtype))
    try:
        result = pipe(prompt, **kwargs)
    finally:
        for h in hooks:
            h.remove()
        if img2img:
            DiagonalGaussianDistribution.sample = original_sample
            del pipe.scheduler.add_noise
    last = f"steps/{state['i'] - 1:03d}"
    final_source = f"{last}/denoised" if family == "lcm" else f"{last}/latents"  # LCM decodes the denoised sample
    rec.save("final/latents", np.load(os.path.join(out, final_source + ".npy")))
    result.images[0].save(os.path.join(out, "final/image.png"))
    if img2img:
        check_encoder_draw(rec, out, seed)
    settings = {"prompt": prompt, "negativePrompt": negative_prompt, "seed": seed, "noise": "torch-cpu", "steps": steps,
                "scheduler": type(pipe.scheduler).__name__, "guidanceScale": guidance, "height": height, "width": width,
                "family": family}
    if img2img:
        image.save(os.path.join(out, "image", "input.png"))  # the input travels with the trace
        settings.update(strength=strength, image="image/input.png")
    manifest = {
        "format": FORMAT,
        "producer": f"diffusers {type(pipe).__name__} (dump_diffusers_trace.py), diffusers {version('diffusers')}, "
                    f"transformers {version('transformers')}, torch {torch.__version__}",
        "pipeline": settings,
        "schedulerConfig": dict(pipe.scheduler.config),
        "timesteps": [float(t) if t.is_floating_point() else int(t) for t in pipe.scheduler.timesteps[-state["i"]:]],
        "vaeScalingFactor": pipe.vae.config.scaling_factor,
        "files": rec.files,
        "complete": True,
    }
    if family == "sdxl":
        # Where prompt_embeds splits between the two encoders' hidden states, so lockstep can check each apart.
        manifest["textEncoderWidths"] = [pipe.text_encoder.config.hidden_size, pipe.text_encoder_2.config.hidden_size]
    with open(os.path.join(out, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=2)
    return result


def check_encoder_draw(rec, out, seed):
    """The generator's first draw is the VAE encoder's sample noise, the second the noise add_noise adds (diffusers' order)."""
    params = torch.from_numpy(np.load(os.path.join(out, "image/latent_parameters.npy")))
    mean, logvar = torch.chunk(params, 2, dim=1)
    std = torch.exp(0.5 * torch.clamp(logvar, -30.0, 20.0))
    g = torch.Generator("cpu").manual_seed(seed)
    eps = torch.randn(mean.shape, generator=g)
    added = torch.randn(mean.shape, generator=g)
    sample = np.load(os.path.join(out, "image/latent_sample.npy"))
    assert np.array_equal((mean + std * eps).numpy(), sample), "encoder sample is not mean + std * first draw"
    assert np.array_equal(added.numpy(), np.load(os.path.join(out, "latents/initial.npy"))), "added noise is not the second draw"
    rec.save("image/encoder_noise", eps)


def version(pkg):
    return __import__(pkg).__version__


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model"); ap.add_argument("out")
    ap.add_argument("--pipeline", choices=["sd", "lcm", "sdxl"], help="default: from model_index.json")
    ap.add_argument("--prompt", required=True); ap.add_argument("--negative-prompt", default="")
    ap.add_argument("--seed", type=int, default=0); ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--guidance", type=float, default=7.5)
    ap.add_argument("--height", type=int, default=512); ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--scheduler", help="a diffusers scheduler class, built from_config of the folder's scheduler")
    ap.add_argument("--image", help="image-to-image: the input image (its size must be --height x --width)")
    ap.add_argument("--strength", type=float, default=0.8)
    ap.add_argument("--device", default="cpu"); ap.add_argument("--dtype", default="float32", choices=["float32", "float16", "bfloat16"])
    a = ap.parse_args()
    family = a.pipeline or family_of(a.model)
    pipe = load_pipeline(a.model, family, a.image is not None, getattr(torch, a.dtype), a.device)
    if a.scheduler:
        import diffusers
        pipe.scheduler = getattr(diffusers, a.scheduler).from_config(pipe.scheduler.config)
    image = None
    if a.image:
        from PIL import Image
        image = Image.open(a.image).convert("RGB")
        assert image.size == (a.width, a.height), f"{a.image} is {image.size[0]}x{image.size[1]}, not {a.width}x{a.height}"
    record(pipe, a.out, family=family, prompt=a.prompt, negative_prompt=a.negative_prompt, seed=a.seed, steps=a.steps,
           guidance=a.guidance, height=a.height, width=a.width, image=image, strength=a.strength)


if __name__ == "__main__":
    main()
