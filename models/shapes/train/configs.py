"""Architectures of the shapes model (diffusers/transformers configs), shared by training and export."""
from transformers import CLIPTextConfig

TEXT_ENCODER = CLIPTextConfig(
    vocab_size=49408, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
    max_position_embeddings=77, projection_dim=32, hidden_act="quick_gelu",
    bos_token_id=49406, eos_token_id=49407, pad_token_id=49407,
)
UNET = dict(
    sample_size=8, in_channels=4, out_channels=4, layers_per_block=1,
    block_out_channels=(48, 96), down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
    up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=32,
    attention_head_dim=8, norm_num_groups=16,
)
VAE = dict(
    # 4 groups: with one channel per group (16 groups of 16) GroupNorm would normalise away flat colours.
    in_channels=3, out_channels=3, latent_channels=4, layers_per_block=1, norm_num_groups=4,
    block_out_channels=(16, 32, 64, 64),
    down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4, sample_size=64,
)
# SD 1.5's noise schedule and PNDM config (steps_offset 1), as the hub's scheduler_config.json states it.
SCHEDULER = dict(
    beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000,
    prediction_type="epsilon", set_alpha_to_one=False, skip_prk_steps=True, steps_offset=1, clip_sample=False,
)
