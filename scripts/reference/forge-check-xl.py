"""Architecture check of `lockstep forge tiny --preset lcm|sdxl`, made with real PyTorch + diffusers 0.27.2 /
transformers 4.38 (never with lockstep):

    node bin/lockstep.mjs forge tiny --preset sdxl --out /tmp/forged-sdxl
    . /work/pyref/env.sh && nice $PY scripts/reference/forge-check-xl.py /tmp/forged-sdxl sdxl [OUT]
                                                     # default OUT: test/reference/forge-xl/<preset>

For each checked component of the forged folder it builds the stock module from the forged config.json
(diffusers' UNet2DConditionModel, transformers' CLIPTextModel / CLIPTextModelWithProjection), loads every
ONNX initializer into it by name (MatMul weights are stored transposed, GroupNorm scales as [C, 1, 1]; the
load is strict both ways: every module parameter comes from the ONNX file and every initializer is used),
runs one call and stores the input and the torch output as .npy (`in.NAME.npy`, `out.NAME.npy`), plus the
sha256 of the model.onnx it checked. src/forge/forge-xl.test.ts runs the forged ONNX file in onnxruntime-node
on the same input and requires every output within 1e-5 of max(1, max|torch|).

Checked: sdxl unet (text_time: text_embeds, time_ids; linear projections; per-block heads and transformer
layers), sdxl text_encoder (hidden states) and text_encoder_2 (gelu, projection, int64 ids), lcm unet
(timestep_cond). The VAE encoder/decoder and the lcm text encoder are the sd presets' builders (checked by
forge-check.py).

Then the whole folder as diffusers reads it: every component loaded the same way (the VAE through forge-check.py's
wrappers), the tokenizers, scheduler config and model_index.json's force_zeros_for_empty_prompt read from the
folder, into the unmodified StableDiffusionXLPipeline / LatentConsistencyModelPipeline, and runs recorded with
docs/examples/dump_diffusers_trace.py under `traces/` (64×64: sdxl 3 Euler steps without and with a negative
prompt, and StableDiffusionXLImg2ImgPipeline at strength 0.6 through the forged VAE encoder; lcm 2 steps). forge-xl.test.ts runs `lockstep generate` on the forged folder with each trace's settings
and requires every tensor within 1e-5 of max(1, max|ref|) (guided noise predictions times the guidance), pixels ±1.
"""
import hashlib, importlib.util, json, os, shutil, sys

import numpy as np
import onnx
from onnx import numpy_helper
import torch

from diffusers import (AutoencoderKL, LatentConsistencyModelPipeline, LCMScheduler, EulerDiscreteScheduler,
                       StableDiffusionXLImg2ImgPipeline, StableDiffusionXLPipeline, UNet2DConditionModel)
from PIL import Image
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
COMPONENTS = {"sdxl": ["unet", "text_encoder", "text_encoder_2"], "lcm": ["unet"]}


def initializers(path):
    """Initializers by name, as torch wants them: MatMul's [in, out] weights transposed, [C, 1, 1] norm scales flattened."""
    model = onnx.load(path)
    matmul_weights = {n.input[1] for n in model.graph.node if n.op_type == "MatMul"}
    out = {}
    for t in model.graph.initializer:
        a = numpy_helper.to_array(t)
        out[t.name] = a.T.copy() if t.name in matmul_weights else a
    return out


def load_strict(module, path):
    weights = initializers(path)
    state = module.state_dict()
    params = dict(module.named_parameters())
    missing = sorted(set(params) - set(weights))
    unused = sorted(set(weights) - set(params))
    if missing or unused:
        raise SystemExit(f"{path}: architecture differs from {type(module).__name__}: "
                         f"missing {missing[:8]} ({len(missing)}), not in the module {unused[:8]} ({len(unused)})")
    for name, p in params.items():
        a = weights[name]
        if a.size != p.numel() or (a.shape != tuple(p.shape) and a.squeeze().shape != p.squeeze().shape):
            raise SystemExit(f"{path}: {name} is {a.shape} in ONNX, {tuple(p.shape)} in {type(module).__name__}")
        state[name] = torch.from_numpy(np.ascontiguousarray(a).reshape(tuple(p.shape)))
    module.load_state_dict(state, strict=True)
    return module.eval()


def unet_case(folder, g):
    config = json.load(open(os.path.join(folder, "unet", "config.json")))
    unet = load_strict(UNet2DConditionModel.from_config(config), os.path.join(folder, "unet", "model.onnx"))
    h = config["sample_size"]
    inputs = {
        "sample": torch.randn(2, 4, h, h, generator=g),
        "timestep": torch.tensor([901], dtype=torch.int64),
        "encoder_hidden_states": torch.randn(2, 77, config["cross_attention_dim"], generator=g),
    }
    kwargs = {}
    if config.get("addition_embed_type") == "text_time":
        pooled = config["projection_class_embeddings_input_dim"] - 6 * config["addition_time_embed_dim"]
        inputs["text_embeds"] = torch.randn(2, pooled, generator=g)
        # Two different rows, so a mixed-up reshape of the flattened time ids would show.
        inputs["time_ids"] = torch.tensor([[128, 128, 0, 0, 128, 128], [96, 160, 16, 8, 128, 96]], dtype=torch.float32)
        kwargs["added_cond_kwargs"] = {"text_embeds": inputs["text_embeds"], "time_ids": inputs["time_ids"]}
    if config.get("time_cond_proj_dim") is not None:
        inputs["timestep_cond"] = torch.randn(2, config["time_cond_proj_dim"], generator=g)
        kwargs["timestep_cond"] = inputs["timestep_cond"]
    with torch.no_grad():
        out = unet(inputs["sample"], inputs["timestep"], inputs["encoder_hidden_states"], **kwargs).sample
    return inputs, {"out_sample": out}


def text_encoder_case(folder, name):
    config = CLIPTextConfig.from_dict(json.load(open(os.path.join(folder, name, "config.json"))))
    with_projection = name == "text_encoder_2"
    cls = CLIPTextModelWithProjection if with_projection else CLIPTextModel
    model = load_strict(cls(config), os.path.join(folder, name, "model.onnx"))
    onnx_ids = onnx.load(os.path.join(folder, name, "model.onnx")).graph.input[0].type.tensor_type.elem_type
    dtype = torch.int64 if onnx_ids == onnx.TensorProto.INT64 else torch.int32
    pad = 0 if with_projection else config.eos_token_id  # OpenCLIP pads with "!" (id 0), CLIP with end-of-text
    rows = [[config.bos_token_id, 320, 1125, 539, 550, 18376, config.eos_token_id],
            [config.bos_token_id, 2368, 49000, config.eos_token_id]]
    ids = torch.tensor([r + [pad] * (77 - len(r)) for r in rows], dtype=dtype)
    with torch.no_grad():
        out = model(input_ids=ids.to(torch.int64), output_hidden_states=True)
    head = {"text_embeds": out.text_embeds} if with_projection else {"pooler_output": out.pooler_output}
    outputs = {**head, "last_hidden_state": out.last_hidden_state}
    outputs.update({f"hidden_states.{i}": s for i, s in enumerate(out.hidden_states)})
    return {"input_ids": ids}, outputs


def script(name):
    """A sibling script as a module (imported lazily: forge-check.py imports this one)."""
    spec = importlib.util.spec_from_file_location(name.replace("-", "_"), os.path.join(HERE, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def forged_pipeline(folder, preset):
    """The forged folder as a diffusers pipeline: ONNX weights in the stock modules, the rest from the folder's files."""
    sd_check = script("forge-check")
    path = lambda *p: os.path.join(folder, *p)  # noqa: E731
    unet = load_strict(UNet2DConditionModel.from_config(json.load(open(path("unet", "config.json")))), path("unet", "model.onnx"))
    vae = AutoencoderKL.from_config(json.load(open(path("vae_decoder", "config.json"))))
    load_strict(sd_check.VaeEncoder(vae), path("vae_encoder", "model.onnx"))
    load_strict(sd_check.VaeDecoder(vae), path("vae_decoder", "model.onnx"))
    vae.eval()

    def encoder(name, cls):
        config = CLIPTextConfig.from_dict(json.load(open(path(name, "config.json"))))
        return load_strict(cls(config), path(name, "model.onnx"))

    if preset == "lcm":
        return LatentConsistencyModelPipeline(
            vae=vae, text_encoder=encoder("text_encoder", CLIPTextModel), tokenizer=CLIPTokenizer.from_pretrained(path("tokenizer")),
            unet=unet, scheduler=LCMScheduler.from_pretrained(folder, subfolder="scheduler"), safety_checker=None,
            feature_extractor=None, requires_safety_checker=False)
    index = json.load(open(path("model_index.json")))
    return StableDiffusionXLPipeline(
        vae=vae, text_encoder=encoder("text_encoder", CLIPTextModel),
        text_encoder_2=encoder("text_encoder_2", CLIPTextModelWithProjection),
        tokenizer=CLIPTokenizer.from_pretrained(path("tokenizer")), tokenizer_2=CLIPTokenizer.from_pretrained(path("tokenizer_2")),
        unet=unet, scheduler=EulerDiscreteScheduler.from_pretrained(folder, subfolder="scheduler"),
        force_zeros_for_empty_prompt=index["force_zeros_for_empty_prompt"])


SIZE = 64


def input_image():
    """A deterministic SIZE×SIZE RGB image (gradients and a disc) for image-to-image."""
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    r = 128 + 100 * np.sin(x / 7.0) * np.cos(y / 11.0)
    g = 255 * y / (SIZE - 1)
    b = np.where((x - 24) ** 2 + (y - 36) ** 2 < 12 ** 2, 220, 30 + x)
    return Image.fromarray(np.clip(np.stack([r, g, b], -1), 0, 255).round().astype(np.uint8))


TRACES = {
    "sdxl": {"euler_s3_no_negative": {"steps": 3}, "euler_s3_negative": {"steps": 3, "negative_prompt": "blurry, low resolution"},
             "img2img_euler_s5_strength0.6": {"steps": 5, "negative_prompt": "blurry", "strength": 0.6, "image": True}},
    "lcm": {"lcm_s2_g8.5": {"steps": 2, "guidance": 8.5}},
}


def record_traces(folder, preset, out_root):
    sys.path.insert(0, os.path.join(HERE, "..", "..", "docs", "examples"))
    import dump_diffusers_trace as dump

    pipe = forged_pipeline(folder, preset)
    for name, kw in TRACES[preset].items():
        dst = os.path.join(out_root, "traces", name)
        shutil.rmtree(dst, ignore_errors=True)
        settings = dict(prompt="a red cube on a wooden table", seed=42, guidance=7.5, height=SIZE, width=SIZE)
        settings.update(kw)
        run = pipe
        if settings.get("image"):
            settings["image"] = input_image()
            run = StableDiffusionXLImg2ImgPipeline(**pipe.components, force_zeros_for_empty_prompt=pipe.config.force_zeros_for_empty_prompt)
        with torch.no_grad():
            dump.record(run, dst, family=preset, **settings)
        print(f"{preset}: trace {name}")


def main():
    folder, preset = sys.argv[1], sys.argv[2]
    out_root = sys.argv[3] if len(sys.argv) > 3 else os.path.join(HERE, "..", "..", "test", "reference", "forge-xl", preset)
    torch.manual_seed(0)
    g = torch.Generator("cpu").manual_seed(2024)
    checked = {}
    for name in COMPONENTS[preset]:
        inputs, outputs = unet_case(folder, g) if name == "unet" else text_encoder_case(folder, name)
        checked[name] = save_check(folder, preset, name, inputs, outputs, out_root)
    record_traces(folder, preset, out_root)
    write_checked(folder, preset, checked, out_root)


def save_check(folder, preset, name, inputs, outputs, out_root):
    """One component's torch call as in.NAME.npy / out.NAME.npy under OUT/<component>; returns its model.onnx sha256."""
    dst = os.path.join(out_root, name)
    os.makedirs(dst, exist_ok=True)
    for n, t in inputs.items():
        np.save(os.path.join(dst, f"in.{n}.npy"), t.numpy())
    for n, t in outputs.items():
        np.save(os.path.join(dst, f"out.{n}.npy"), t.numpy())
    print(f"{preset}/{name}: {len(outputs)} outputs, max |out| {max(float(t.abs().max()) for t in outputs.values()):.3g}")
    return hashlib.sha256(open(os.path.join(folder, name, "model.onnx"), "rb").read()).hexdigest()


def write_checked(folder, preset, checked, out_root):
    """OUT/checked.json: the preset, its forge version, each checked model.onnx's sha256 and the library versions."""
    versions = {"torch": torch.__version__, "diffusers": __import__("diffusers").__version__,
                "transformers": __import__("transformers").__version__}
    with open(os.path.join(out_root, "checked.json"), "w") as f:
        json.dump({"preset": preset, "forge": json.load(open(os.path.join(folder, "forge.json")))["forge_version"],
                   "model_sha256": checked, "versions": versions}, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
