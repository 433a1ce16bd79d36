"""Export a trained diffusers pipeline folder to ONNX in optimum's layout and names.

    python export_onnx.py build/pipeline ../model

text_encoder/model.onnx  input_ids int32 [batch, sequence] -> last_hidden_state, pooler_output
unet/model.onnx          sample [batch,4,h,w], timestep int64 [steps], encoder_hidden_states -> out_sample
vae_encoder/model.onnx   sample [batch,3,H,W] -> latent_parameters [batch,8,h,w] (mean and log-variance, as
                         optimum >= 1.17 exports it; the pipeline samples from it with its generator)
vae_decoder/model.onnx   latent_sample [batch,4,h,w] -> sample [batch,3,H,W]
plus model_index.json, scheduler/, tokenizer/ and each component's config.json, as optimum writes them.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import torch
from diffusers import StableDiffusionPipeline

OPSET = 14


class TextEncoder(torch.nn.Module):
    def __init__(self, te):
        super().__init__()
        self.te = te

    def forward(self, input_ids):
        out = self.te(input_ids=input_ids.long())
        return out.last_hidden_state, out.pooler_output


class Unet(torch.nn.Module):
    def __init__(self, unet):
        super().__init__()
        self.unet = unet

    def forward(self, sample, timestep, encoder_hidden_states):
        return self.unet(sample, timestep, encoder_hidden_states, return_dict=False)[0]


class VaeEncoder(torch.nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, sample):
        return self.vae.encode(sample).latent_dist.parameters


class VaeDecoder(torch.nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, latent_sample):
        return self.vae.decode(latent_sample).sample


def export(module, args, path: Path, inputs, outputs, axes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(module.eval(), args, str(path), input_names=inputs, output_names=outputs,
                      dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True, dynamo=False)


def main(src: str, dst: str) -> None:
    pipe = StableDiffusionPipeline.from_pretrained(src, safety_checker=None)
    out = Path(dst)
    if out.exists():
        shutil.rmtree(out)
    h = w = pipe.unet.config.sample_size
    f = 2 ** (len(pipe.vae.config.block_out_channels) - 1)
    d = pipe.text_encoder.config.hidden_size
    with torch.no_grad():
        export(TextEncoder(pipe.text_encoder), (torch.zeros(1, 77, dtype=torch.int32),), out / "text_encoder/model.onnx",
               ["input_ids"], ["last_hidden_state", "pooler_output"],
               {"input_ids": {0: "batch_size", 1: "sequence_length"}, "last_hidden_state": {0: "batch_size", 1: "sequence_length"},
                "pooler_output": {0: "batch_size"}})
        export(Unet(pipe.unet), (torch.randn(2, 4, h, w), torch.tensor([1], dtype=torch.int64), torch.randn(2, 77, d)),
               out / "unet/model.onnx", ["sample", "timestep", "encoder_hidden_states"], ["out_sample"],
               {"sample": {0: "batch_size", 1: "num_channels", 2: "height", 3: "width"}, "timestep": {0: "steps"},
                "encoder_hidden_states": {0: "batch_size", 1: "sequence_length"},
                "out_sample": {0: "batch_size", 1: "num_channels", 2: "height", 3: "width"}})
        export(VaeEncoder(pipe.vae), (torch.randn(1, 3, h * f, w * f),), out / "vae_encoder/model.onnx",
               ["sample"], ["latent_parameters"],
               {"sample": {0: "batch_size", 1: "num_channels", 2: "height", 3: "width"},
                "latent_parameters": {0: "batch_size", 2: "height_latent", 3: "width_latent"}})
        export(VaeDecoder(pipe.vae), (torch.randn(1, 4, h, w),), out / "vae_decoder/model.onnx",
               ["latent_sample"], ["sample"],
               {"latent_sample": {0: "batch_size", 1: "num_channels_latent", 2: "height_latent", 3: "width_latent"},
                "sample": {0: "batch_size", 1: "num_channels", 2: "height", 3: "width"}})
    src_p = Path(src)
    for comp in ["text_encoder", "unet"]:
        shutil.copy(src_p / comp / "config.json", out / comp / "config.json")
    for comp in ["vae_encoder", "vae_decoder"]:
        shutil.copy(src_p / "vae" / "config.json", out / comp / "config.json")
    shutil.copytree(src_p / "scheduler", out / "scheduler")
    shutil.copytree(src_p / "tokenizer", out / "tokenizer")
    index = json.loads((src_p / "model_index.json").read_text())
    (out / "model_index.json").write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
