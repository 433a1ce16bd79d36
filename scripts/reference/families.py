"""Ground truth for lockstep's pipeline families, made with real PyTorch + diffusers 0.27.2 (never with lockstep).

    . /work/pyref/env.sh && nice $PY scripts/reference/families.py [OUT] [FAMILY...] [--traces-only]
                                                                           # default OUT: test/reference/families

For each family it builds a tiny pipeline from the stock classes (seeded random weights; a 1,114-token slice of
the real CLIP BPE so the text encoders stay small), exports every component with torch.onnx.export(dynamo=False)
in optimum's layout, names and dtypes (opset 14), stores one torch input/output pair per component under
checks/ (lockstep's tests run the ONNX file in onnxruntime-node against it), and records runs of the unmodified
pipeline __call__ with docs/examples/dump_diffusers_trace.py.

  sd    SD 1.x-shaped, DDIM config of SD 1.5, with vae_encoder: image-to-image traces (strength 0.6/0.8/1.0, DDIM, Euler a;
        PNDM with and without skip_prk_steps; the second-order Heun; DPM++ 2M with and without Karras sigmas, UniPC, LMS,
        DEIS, DPM-Solver single-step, DDPM, TCD)
  sd2   SD 2.x-shaped: OpenCLIP tokenizer (pad token "!"), gelu text encoder, v-prediction (DDIM and Euler);
        image-to-image with DDIM at 0.6
  turbo SD-Turbo-shaped: Euler, timestep_spacing "trailing", guidance 0, 1 and 4 steps; image-to-image 2 steps at 0.5
  lcm   LCM-distilled SD 1.x (U-Net time_cond_proj_dim): LatentConsistencyModelPipeline, 1, 2 and 4 steps;
        LatentConsistencyModelImg2ImgPipeline (strength 0.6 and 0.8 with 4 steps, 1.0 with 2)
  sdxl  two tokenizers/text encoders, text_time U-Net, VAE scaling factor 0.13025: with and without a negative
        prompt, and image-to-image (Euler at 0.8, DPM++ 2M at 0.6)
"""
import json, os, shutil, sys, tempfile

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "docs", "examples"))
import dump_diffusers_trace as dump  # noqa: E402

from diffusers import (AutoencoderKL, DDIMScheduler, DDPMScheduler, DEISMultistepScheduler, DPMSolverMultistepScheduler, DPMSolverSinglestepScheduler, EulerAncestralDiscreteScheduler, EulerDiscreteScheduler,  # noqa: E402
                       HeunDiscreteScheduler, LCMScheduler, LatentConsistencyModelImg2ImgPipeline, LatentConsistencyModelPipeline, PNDMScheduler, StableDiffusionImg2ImgPipeline,
                       StableDiffusionPipeline, StableDiffusionXLImg2ImgPipeline, StableDiffusionXLPipeline,
                       LMSDiscreteScheduler, TCDScheduler, UNet2DConditionModel, UniPCMultistepScheduler)
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer  # noqa: E402

CLIP_VOCAB = "/work/shared/reference/clip-vocab"
MERGES = 600
PROMPT = "a photo of an astronaut riding a horse on mars"
NEGATIVE = "low resolution, blurry"
SIZE = 64
OPSET = 14
SD15_BETAS = dict(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000)


# ---------------------------------------------------------------- tokenizer
def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(2 ** 8):
        if b not in bs:
            bs.append(b)
            cs.append(2 ** 8 + n)
            n += 1
    return [chr(c) for c in cs]


def write_tokenizer(dst, pad_token):
    """CLIP's own vocabulary construction over the first MERGES merges: byte symbols, with </w>, merge results, specials."""
    lines = open(os.path.join(CLIP_VOCAB, "merges.txt"), encoding="utf-8").read().split("\n")[1:MERGES + 1]
    symbols = bytes_to_unicode()
    vocab = symbols + [s + "</w>" for s in symbols] + ["".join(l.split()) for l in lines] + ["<|startoftext|>", "<|endoftext|>"]
    assert len(set(vocab)) == len(vocab)
    os.makedirs(dst, exist_ok=True)
    json.dump({t: i for i, t in enumerate(vocab)}, open(os.path.join(dst, "vocab.json"), "w", encoding="utf-8"), ensure_ascii=False)
    open(os.path.join(dst, "merges.txt"), "w", encoding="utf-8").write("#version: 0.2\n" + "\n".join(lines) + "\n")
    tok = CLIPTokenizer(os.path.join(dst, "vocab.json"), os.path.join(dst, "merges.txt"), pad_token=pad_token, model_max_length=77)
    tok.save_pretrained(dst)
    return CLIPTokenizer.from_pretrained(dst), len(vocab)


# ---------------------------------------------------------------- models
def text_config(vocab, act="quick_gelu", hidden=32):
    return CLIPTextConfig(vocab_size=vocab, hidden_size=hidden, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
                          max_position_embeddings=77, projection_dim=32, hidden_act=act, bos_token_id=vocab - 2,
                          eos_token_id=vocab - 1, pad_token_id=1)


def unet(cross=32, **extra):
    return UNet2DConditionModel(block_out_channels=(8, 16), layers_per_block=1, sample_size=SIZE // 8, in_channels=4, out_channels=4,
                                down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
                                cross_attention_dim=cross, attention_head_dim=4, norm_num_groups=8, **extra)


def vae(scaling_factor=0.18215):
    return AutoencoderKL(block_out_channels=(4, 8, 8, 8), down_block_types=("DownEncoderBlock2D",) * 4,
                         up_block_types=("UpDecoderBlock2D",) * 4, latent_channels=4, norm_num_groups=4, layers_per_block=1,
                         sample_size=SIZE, scaling_factor=scaling_factor)


def build(family, tmp):
    torch.manual_seed({"sd": 0, "sd2": 1, "turbo": 2, "lcm": 3, "sdxl": 4}[family])
    sd2 = family in ("sd2", "turbo")
    tok, V = write_tokenizer(os.path.join(tmp, "tokenizer"), "!" if sd2 else "<|endoftext|>")
    if family == "sdxl":
        tok2, _ = write_tokenizer(os.path.join(tmp, "tokenizer_2"), "!")
        te = CLIPTextModel(text_config(V)).eval()
        te2 = CLIPTextModelWithProjection(text_config(V, act="gelu")).eval()
        u = unet(cross=64, addition_embed_type="text_time", addition_time_embed_dim=4, projection_class_embeddings_input_dim=6 * 4 + 32,
                 use_linear_projection=True, transformer_layers_per_block=1)
        sched = EulerDiscreteScheduler(**SD15_BETAS, steps_offset=1, timestep_spacing="leading")
        return StableDiffusionXLPipeline(vae=vae(0.13025), text_encoder=te, text_encoder_2=te2, tokenizer=tok, tokenizer_2=tok2, unet=u.eval(),
                                         scheduler=sched, force_zeros_for_empty_prompt=True, add_watermarker=False)
    te = CLIPTextModel(text_config(V, act="gelu" if sd2 else "quick_gelu")).eval()
    if family == "lcm":
        u = unet(time_cond_proj_dim=32)
        sched = LCMScheduler(**SD15_BETAS, original_inference_steps=50, steps_offset=1, timestep_spacing="leading", set_alpha_to_one=True)
        return LatentConsistencyModelPipeline(vae=vae(), text_encoder=te, tokenizer=tok, unet=u.eval(), scheduler=sched,
                                              safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    if family == "sd2":
        u = unet(use_linear_projection=True)
        sched = DDIMScheduler(**SD15_BETAS, clip_sample=False, set_alpha_to_one=False, steps_offset=1, prediction_type="v_prediction")
    elif family == "turbo":
        u = unet(use_linear_projection=True)
        sched = EulerDiscreteScheduler(**SD15_BETAS, steps_offset=1, timestep_spacing="trailing", prediction_type="epsilon")
    else:
        u = unet()
        sched = DDIMScheduler(**SD15_BETAS, clip_sample=False, set_alpha_to_one=False, steps_offset=1)
    return StableDiffusionPipeline(vae=vae(), text_encoder=te, tokenizer=tok, unet=u.eval(), scheduler=sched, safety_checker=None,
                                   feature_extractor=None, requires_safety_checker=False)


# ---------------------------------------------------------------- export (optimum's names and dtypes)
class TextEncoder(torch.nn.Module):
    def __init__(self, m, hidden_states):
        super().__init__()
        self.m, self.hidden_states = m, hidden_states

    def forward(self, input_ids):
        out = self.m(input_ids=input_ids, output_hidden_states=self.hidden_states)
        head = (out.text_embeds, out.last_hidden_state) if hasattr(out, "text_embeds") else (out.last_hidden_state, out.pooler_output)
        return head + (tuple(out.hidden_states) if self.hidden_states else ())


class Unet(torch.nn.Module):
    def __init__(self, m, extra):
        super().__init__()
        self.m, self.extra = m, extra

    def forward(self, sample, timestep, encoder_hidden_states, *rest):
        kw = dict(zip(self.extra, rest))
        added = {k: kw.pop(k) for k in ("text_embeds", "time_ids") if k in kw}
        return self.m(sample, timestep, encoder_hidden_states, added_cond_kwargs=added or None, **kw).sample


class VaeEncoder(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, sample):
        return self.m.encode(sample).latent_dist.parameters


class VaeDecoder(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, latent_sample):
        return self.m.decode(latent_sample).sample


def export(module, inputs, names, outputs, dynamic, file, check_dir):
    os.makedirs(os.path.dirname(file), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(module, tuple(inputs), file, input_names=names, output_names=outputs, dynamic_axes=dynamic,
                          opset_version=OPSET, dynamo=False, do_constant_folding=True)
        expected = module(*inputs)
    expected = expected if isinstance(expected, tuple) else (expected,)
    os.makedirs(check_dir, exist_ok=True)
    for n, t in zip(names, inputs):
        np.save(os.path.join(check_dir, f"in.{n}.npy"), t.numpy())
    for n, t in zip(outputs, expected):
        np.save(os.path.join(check_dir, f"out.{n}.npy"), t.numpy())


def export_pipeline(pipe, family, out):
    g = torch.Generator("cpu").manual_seed(123)
    ids = torch.tensor([[pipe.tokenizer.bos_token_id] + list(range(5, 80)) + [pipe.tokenizer.eos_token_id]], dtype=torch.int32)
    checks = os.path.join(out, "checks")
    xl = family == "sdxl"
    encoders = [("text_encoder", pipe.text_encoder, torch.int32)] + ([("text_encoder_2", pipe.text_encoder_2, torch.int64)] if xl else [])
    for name, te, dtype in encoders:
        n_layers = te.config.num_hidden_layers
        heads = ["text_embeds", "last_hidden_state"] if name == "text_encoder_2" else ["last_hidden_state", "pooler_output"]
        outs = heads + ([f"hidden_states.{i}" for i in range(n_layers + 1)] if xl else [])
        export(TextEncoder(te, xl), [ids.to(dtype)], ["input_ids"], outs, {"input_ids": {0: "batch_size", 1: "sequence_length"}},
               os.path.join(out, name, "model.onnx"), os.path.join(checks, name))
    h = SIZE // 8
    cross = pipe.unet.config.cross_attention_dim
    inputs = [torch.randn(2, 4, h, h, generator=g), torch.tensor([901], dtype=torch.int64), torch.randn(2, 77, cross, generator=g)]
    names = ["sample", "timestep", "encoder_hidden_states"]
    dynamic = {"sample": {0: "batch_size", 2: "height", 3: "width"}, "timestep": {0: "steps"},
               "encoder_hidden_states": {0: "batch_size", 1: "sequence_length"}}
    extra = []
    if pipe.unet.config.addition_embed_type == "text_time":
        extra = ["text_embeds", "time_ids"]
        inputs += [torch.randn(2, 32, generator=g), torch.tensor([[SIZE, SIZE, 0, 0, SIZE, SIZE]] * 2, dtype=torch.float32)]
    if pipe.unet.config.time_cond_proj_dim is not None:
        extra = ["timestep_cond"]
        inputs += [torch.randn(2, pipe.unet.config.time_cond_proj_dim, generator=g)]
    for n in extra:
        dynamic[n] = {0: "batch_size"}
    export(Unet(pipe.unet, extra), inputs, names + extra, ["out_sample"], {**dynamic, "out_sample": {0: "batch_size", 2: "height", 3: "width"}},
           os.path.join(out, "unet", "model.onnx"), os.path.join(checks, "unet"))
    export(VaeEncoder(pipe.vae), [torch.rand(1, 3, SIZE, SIZE, generator=g) * 2 - 1], ["sample"], ["latent_parameters"],
           {"sample": {0: "batch_size", 2: "height", 3: "width"}, "latent_parameters": {0: "batch_size", 2: "height_latent", 3: "width_latent"}},
           os.path.join(out, "vae_encoder", "model.onnx"), os.path.join(checks, "vae_encoder"))
    export(VaeDecoder(pipe.vae), [torch.randn(1, 4, h, h, generator=g)], ["latent_sample"], ["sample"],
           {"latent_sample": {0: "batch_size", 2: "height", 3: "width"}, "sample": {0: "batch_size", 2: "height", 3: "width"}},
           os.path.join(out, "vae_decoder", "model.onnx"), os.path.join(checks, "vae_decoder"))


def write_folder(pipe, family, out, tmp):
    """optimum's ONNX folder: model_index.json, tokenizer(s), scheduler, and each component's config.json."""
    pipe.save_config(out)
    pipe.scheduler.save_pretrained(os.path.join(out, "scheduler"))
    for d in ["tokenizer", "tokenizer_2"]:
        if os.path.isdir(os.path.join(tmp, d)):
            shutil.copytree(os.path.join(tmp, d), os.path.join(out, d))
    for onnx_dir, component in [("text_encoder", pipe.text_encoder), ("text_encoder_2", getattr(pipe, "text_encoder_2", None)),
                                ("unet", pipe.unet), ("vae_encoder", pipe.vae), ("vae_decoder", pipe.vae)]:
        if component is None:
            continue
        os.makedirs(os.path.join(out, onnx_dir), exist_ok=True)
        if hasattr(component, "save_config"):
            component.save_config(os.path.join(out, onnx_dir))
        else:
            component.config.save_pretrained(os.path.join(out, onnx_dir))


# ---------------------------------------------------------------- traces
def input_image():
    """A deterministic 64x64 RGB test image (smooth gradients and a disc), committed beside the traces."""
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    r = 128 + 100 * np.sin(x / 9.0) * np.cos(y / 13.0)
    g = 255 * x / (SIZE - 1)
    b = np.where((x - 40) ** 2 + (y - 24) ** 2 < 14 ** 2, 230, 40 + y)
    return Image.fromarray(np.clip(np.stack([r, g, b], -1), 0, 255).round().astype(np.uint8))


def trace(pipe, family, out, name, **kw):
    settings = dict(prompt=PROMPT, seed=42, steps=4, guidance=7.5, height=SIZE, width=SIZE)
    settings.update(kw)
    dst = os.path.join(out, "traces", name)
    shutil.rmtree(dst, ignore_errors=True)
    with torch.no_grad():
        dump.record(pipe, dst, family=family, **settings)
    print("  trace", name)


def with_scheduler(pipe, cls, out, **overrides):
    """As a user swaps schedulers on the exported folder: from_config of its scheduler_config.json (which states every
    key, so e.g. DDIM's timestep_spacing "leading" carries over to Euler, unlike an in-memory config's defaults),
    with any `overrides` passed to from_config as keyword arguments."""
    pipe.scheduler = cls.from_config(cls.load_config(os.path.join(out, "model", "scheduler")), **overrides)
    return pipe


def record_traces(pipe, family, out):
    if family == "sd":
        image = input_image()
        image.save(os.path.join(out, "input.png"))
        i2i = StableDiffusionImg2ImgPipeline(**pipe.components)
        for cls, tag in [(DDIMScheduler, "ddim"), (EulerAncestralDiscreteScheduler, "euler-a")]:
            for s in (0.6, 0.8, 1.0):
                with_scheduler(i2i, cls, out)
                trace(i2i, "sd", out, f"img2img_{tag}_strength{s}", negative_prompt=NEGATIVE, steps=5, image=image, strength=s)
        # Heun is second order (order 2): get_timesteps cuts its doubled schedule at t_start * 2. (KDPM2's interpolated
        # timesteps are fractional, which the int64 timestep of these exports truncates: no trace of it can match.)
        with_scheduler(i2i, HeunDiscreteScheduler, out)
        trace(i2i, "sd", out, "img2img_heun_strength0.6", negative_prompt=NEGATIVE, steps=5, image=image, strength=0.6)
        # PNDM from the folder's config keeps skip_prk_steps False: its Runge-Kutta steps index prk_timesteps by their
        # own counter, not by the (cut) timesteps the loop passes — a diffusers quirk, recorded as it is.
        with_scheduler(i2i, PNDMScheduler, out)
        trace(i2i, "sd", out, "img2img_pndm_strength0.8", negative_prompt=NEGATIVE, steps=5, image=image, strength=0.8)
        # PLMS as SD 1.5 ships it (skip_prk_steps True); the trace's schedulerConfig says so.
        for s in (0.6, 0.8):
            with_scheduler(i2i, PNDMScheduler, out, skip_prk_steps=True)
            trace(i2i, "sd", out, f"img2img_plms_strength{s}", negative_prompt=NEGATIVE, steps=5, image=image, strength=s)
        # The multistep solvers users run most (DPM++ 2M, with Karras sigmas, UniPC), LMS, DEIS and DPM-Solver single-step:
        # add_noise by sigma at the begin index, the solver's history starting empty at the cut (3 of 5 steps: lower
        # orders throughout); DDPM and TCD draw noise from the generator on their steps.
        for cls, tag, extra in [(DPMSolverMultistepScheduler, "dpmpp-2m", {}), (DPMSolverMultistepScheduler, "dpmpp-2m-karras", {"use_karras_sigmas": True}),
                                (UniPCMultistepScheduler, "unipc", {}), (LMSDiscreteScheduler, "lms", {}),
                                (DEISMultistepScheduler, "deis", {}), (DPMSolverSinglestepScheduler, "dpm-single", {}),
                                (DDPMScheduler, "ddpm", {}), (TCDScheduler, "tcd", {})]:
            with_scheduler(i2i, cls, out, **extra)
            trace(i2i, "sd", out, f"img2img_{tag}_strength0.6", negative_prompt=NEGATIVE, steps=5, image=image, strength=0.6)
        with_scheduler(pipe, DDIMScheduler, out)
        trace(pipe, "sd", out, "ddim_s4", negative_prompt=NEGATIVE)
    elif family == "sd2":
        trace(pipe, "sd", out, "ddim_s4_vpred", negative_prompt=NEGATIVE)
        original = pipe.scheduler
        trace(with_scheduler(pipe, EulerDiscreteScheduler, out), "sd", out, "euler_s4_vpred", negative_prompt=NEGATIVE)
        pipe.scheduler = original
        # SD 2.x image-to-image: v-prediction steps from a noised encoded image.
        image = input_image()
        image.save(os.path.join(out, "input.png"))
        i2i = with_scheduler(StableDiffusionImg2ImgPipeline(**pipe.components), DDIMScheduler, out)
        trace(i2i, "sd", out, "img2img_ddim_vpred_strength0.6", negative_prompt=NEGATIVE, steps=5, image=image, strength=0.6)
    elif family == "turbo":
        for steps in (1, 4):
            trace(pipe, "sd", out, f"euler_trailing_s{steps}_g0", steps=steps, guidance=0.0)
        # SD-Turbo's image-to-image as diffusers documents it: 2 steps at strength 0.5 (one U-Net step), guidance 0.
        image = input_image()
        image.save(os.path.join(out, "input.png"))
        i2i = with_scheduler(StableDiffusionImg2ImgPipeline(**pipe.components), EulerDiscreteScheduler, out)
        trace(i2i, "sd", out, "img2img_euler_trailing_s2_strength0.5_g0", steps=2, guidance=0.0, image=image, strength=0.5)
    elif family == "lcm":
        for steps in (1, 2, 4):
            trace(pipe, "lcm", out, f"lcm_s{steps}_g8.5", steps=steps, guidance=8.5)
        # LatentConsistencyModelImg2ImgPipeline passes strength to LCMScheduler.set_timesteps, which shortens the origin
        # schedule to int(original_inference_steps * strength) and picks all `steps` from it: no get_timesteps cut.
        image = input_image()
        image.save(os.path.join(out, "input.png"))
        i2i = with_scheduler(LatentConsistencyModelImg2ImgPipeline(**pipe.components), LCMScheduler, out)
        for steps, s in ((4, 0.6), (4, 0.8), (2, 1.0)):
            trace(i2i, "lcm", out, f"img2img_lcm_s{steps}_strength{s}", steps=steps, guidance=8.5, image=image, strength=s)
    elif family == "sdxl":
        trace(pipe, "sdxl", out, "euler_s4_negative", negative_prompt=NEGATIVE)
        trace(pipe, "sdxl", out, "euler_s4_no_negative")
        image = input_image()
        image.save(os.path.join(out, "input.png"))
        i2i = StableDiffusionXLImg2ImgPipeline(**pipe.components)
        trace(i2i, "sdxl", out, "img2img_euler_strength0.8", negative_prompt=NEGATIVE, steps=5, image=image, strength=0.8)
        i2i = with_scheduler(StableDiffusionXLImg2ImgPipeline(**pipe.components), DPMSolverMultistepScheduler, out)
        trace(i2i, "sdxl", out, "img2img_dpmpp-2m_strength0.6", negative_prompt=NEGATIVE, steps=5, image=image, strength=0.6)


def main():
    args = [a for a in sys.argv[1:] if a != "--traces-only"]
    # --traces-only: rebuild each family's pipeline in memory (the same seeds) and record its traces again, leaving the
    # committed model folder and checks/ as they are; the existing traces coming out bitwise unchanged shows it is the same.
    traces_only = len(args) < len(sys.argv) - 1
    root = args[0] if args else os.path.join(HERE, "..", "..", "test", "reference", "families")
    only = args[1:] or ["sd", "sd2", "turbo", "lcm", "sdxl"]
    torch.set_num_threads(1)
    for family in only:
        print(family)
        out = os.path.join(root, family)
        if traces_only:
            with tempfile.TemporaryDirectory() as tmp:
                record_traces(build(family, tmp), family, out)
            continue
        model = os.path.join(out, "model")
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(model)
        with tempfile.TemporaryDirectory() as tmp:
            pipe = build(family, tmp)
            write_folder(pipe, family, model, tmp)
            export_pipeline(pipe, family, out)
            for c in ["text_encoder", "text_encoder_2", "unet", "vae_encoder", "vae_decoder"]:
                src = os.path.join(out, c, "model.onnx")
                if os.path.exists(src):
                    shutil.move(src, os.path.join(model, c, "model.onnx"))
                    os.rmdir(os.path.join(out, c))
            record_traces(pipe, family, out)
    json.dump({"diffusers": dump.version("diffusers"), "transformers": dump.version("transformers"), "torch": torch.__version__,
               "script": "scripts/reference/families.py"}, open(os.path.join(root, "versions.json"), "w"), indent=2)


if __name__ == "__main__":
    main()
