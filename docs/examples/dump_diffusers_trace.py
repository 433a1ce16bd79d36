"""Record a diffusers StableDiffusionPipeline run as a lockstep trace (TRACE_FORMAT.md).

Not a lockstep dependency and not run by its tests: a starting point for recording a reference (or a
candidate) with PyTorch on any device. Uses forward hooks on the U-Net and VAE decoder and
callback_on_step_end for the latents after each scheduler step.

    python dump_diffusers_trace.py MODEL_ID_OR_DIR OUT_TRACE --prompt "..." --seed 42 --steps 10
"""
import argparse, json, os
import numpy as np
import torch
from diffusers import StableDiffusionPipeline

ap = argparse.ArgumentParser()
ap.add_argument("model"); ap.add_argument("out")
ap.add_argument("--prompt", required=True); ap.add_argument("--negative-prompt", default="")
ap.add_argument("--seed", type=int, default=0); ap.add_argument("--steps", type=int, default=10)
ap.add_argument("--guidance", type=float, default=7.5)
ap.add_argument("--height", type=int, default=512); ap.add_argument("--width", type=int, default=512)
a = ap.parse_args()

pipe = StableDiffusionPipeline.from_pretrained(a.model, torch_dtype=torch.float32, safety_checker=None)
files, step = {}, {"i": 0}

def save(name, t):
    arr = np.ascontiguousarray(t.detach().cpu().numpy() if torch.is_tensor(t) else t)
    path = os.path.join(a.out, name + ".npy")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.save(path, arr)
    files[name + ".npy"] = {"dtype": str(arr.dtype), "shape": list(arr.shape)}

def unet_hook(module, args, kwargs, out):
    d = f"steps/{step['i']:03d}"
    sample = kwargs.get("sample", args[0] if args else None)
    t = kwargs.get("timestep", args[1] if len(args) > 1 else None)
    emb = kwargs.get("encoder_hidden_states", args[2] if len(args) > 2 else None)
    if step["i"] == 0:
        save("text/prompt_embeds", emb)
    save(f"{d}/timestep", torch.as_tensor(t).reshape(-1)[:1])
    save(f"{d}/latent_model_input", sample)
    pred = out[0] if isinstance(out, tuple) else out.sample
    if a.guidance > 1:
        uncond, text = pred.chunk(2)
        save(f"{d}/noise_pred_uncond", uncond); save(f"{d}/noise_pred_text", text)
        save(f"{d}/noise_pred", uncond + a.guidance * (text - uncond))  # diffusers' own arithmetic
    else:
        save(f"{d}/noise_pred_text", pred); save(f"{d}/noise_pred", pred)

def on_step_end(p, i, t, kw):
    save(f"steps/{i:03d}/latents", kw["latents"])
    step["i"] = i + 1
    return kw

pipe.unet.register_forward_hook(unet_hook, with_kwargs=True)
pipe.vae.decoder.register_forward_hook(lambda m, i, o: save("final/decoded", o))

def ids(text):
    return pipe.tokenizer(text, padding="max_length", max_length=pipe.tokenizer.model_max_length, truncation=True, return_tensors="pt").input_ids

save("text/cond_ids", ids(a.prompt))
if a.guidance > 1:
    save("text/uncond_ids", ids(a.negative_prompt))
gen = torch.Generator("cpu").manual_seed(a.seed)
f = pipe.vae_scale_factor
initial = torch.randn((1, pipe.unet.config.in_channels, a.height // f, a.width // f), generator=gen)
save("latents/initial", initial)  # passing it in keeps the generator where diffusers would have left it
result = pipe(a.prompt, negative_prompt=a.negative_prompt or None, num_inference_steps=a.steps, guidance_scale=a.guidance,
              height=a.height, width=a.width, generator=gen, latents=initial, output_type="pil",
              callback_on_step_end=on_step_end, callback_on_step_end_tensor_inputs=["latents"])
save("final/latents", np.load(os.path.join(a.out, f"steps/{step['i'] - 1:03d}/latents.npy")))
result.images[0].save(os.path.join(a.out, "final/image.png"))
json.dump({
    "format": "lockstep.trace/1",
    "producer": f"diffusers StableDiffusionPipeline (dump_diffusers_trace.py), torch {torch.__version__}",
    "pipeline": {"prompt": a.prompt, "negativePrompt": a.negative_prompt, "seed": a.seed, "noise": "torch-cpu",
                 "steps": a.steps, "scheduler": type(pipe.scheduler).__name__, "guidanceScale": a.guidance,
                 "height": a.height, "width": a.width},
    "schedulerConfig": dict(pipe.scheduler.config),
    "timesteps": [float(t) if t.is_floating_point() else int(t) for t in pipe.scheduler.timesteps],
    "vaeScalingFactor": pipe.vae.config.scaling_factor,
    "files": files,
}, open(os.path.join(a.out, "manifest.json"), "w"), indent=2)
