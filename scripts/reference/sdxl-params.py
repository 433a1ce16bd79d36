"""SDXL base 1.0's parameter counts per optimum ONNX component, for bench/sdxl-fit.ts.

Builds the models from SDXL base 1.0's configs (stabilityai/stable-diffusion-xl-base-1.0:
unet/, text_encoder/, text_encoder_2/, vae/ config.json) on torch's meta device, so no
weights are allocated or downloaded, and counts their parameters.

    . /work/pyref/env.sh && $PY scripts/reference/sdxl-params.py

diffusers 0.27.2, transformers 4.38, torch 2.x. Printed 2026-12-02:
unet 2567463684, text_encoder 123060480, text_encoder_2 694659840,
vae_encoder 34163664 (encoder + quant_conv), vae_decoder 49490199 (post_quant_conv + decoder).
"""
import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

with torch.device("meta"):
    unet = UNet2DConditionModel(
        sample_size=128, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
        block_out_channels=(320, 640, 1280), layers_per_block=2, attention_head_dim=(5, 10, 20),
        cross_attention_dim=2048, transformer_layers_per_block=(1, 2, 10), use_linear_projection=True,
        addition_embed_type="text_time", addition_time_embed_dim=256, projection_class_embeddings_input_dim=2816,
    )
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
        num_attention_heads=12, max_position_embeddings=77, hidden_act="quick_gelu", projection_dim=768))
    text_encoder_2 = CLIPTextModelWithProjection(CLIPTextConfig(
        vocab_size=49408, hidden_size=1280, intermediate_size=5120, num_hidden_layers=32,
        num_attention_heads=20, max_position_embeddings=77, hidden_act="gelu", projection_dim=1280))
    vae = AutoencoderKL(
        in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4, block_out_channels=(128, 256, 512, 512),
        layers_per_block=2, latent_channels=4, sample_size=1024)


def count(*modules):
    return sum(p.numel() for m in modules for p in m.parameters())


print("unet", count(unet))
print("text_encoder", count(text_encoder))
print("text_encoder_2", count(text_encoder_2))
print("vae_encoder", count(vae.encoder, vae.quant_conv))
print("vae_decoder", count(vae.post_quant_conv, vae.decoder))
