"""Scheduler-only reference runs of diffusers 0.27.2 for lockstep's Heun, KDPM2,
KDPM2 ancestral, LMS, DDPM, TCD schedulers and the Euler-family options.

Each run drives one scheduler as StableDiffusionPipeline.__call__ does (set_timesteps,
init_noise_sigma, then scale_model_input / step for every entry of scheduler.timesteps,
the generator and eta passed to step when its signature takes them), with a stand-in
model instead of the U-Net:  noise_pred = 0.3*x*cos(t/73) + 0.2*sin(1.7*x + t/211)
(float32 tensors, t the timestep as a Python float). Latents are 1x4x8x8. Each run folder
holds manifest.json (config, timesteps as float64 values, their torch dtype), initial_latents.npy
(the generator's first draw), and latent_model_input.npy / latents.npy stacked over U-Net calls.

Also writes lms_coefficients.json: scipy.integrate.quad's LMS coefficients as
LMSDiscreteScheduler.get_lms_coefficient computes them, for lockstep's own quadrature.

Run with torch 1.13 (Debian's python3-torch, the torch of ../shared/reference), numpy 1.24, scipy 1.10:
  PYTHONPATH=<python-reference>/stubs:<diffusers 0.27.2>/src HF_HUB_OFFLINE=1 /usr/bin/python3 \
      scripts/reference/schedulers_b.py test/reference/schedulers/b-runs
torch 2.13 (the pyref venv) rounds some float32 kernels differently: its CPU linspace puts ~23% of SD's
betas one ulp off torch 1.13's, its sqrt and exp are not correctly rounded (sqrt: 0.7% of inputs) and
not SLEEF's either — lockstep models torch 1.13's kernels, so reference data comes from torch 1.13.
"""
import inspect
import json
import math
import os
import shutil
import sys

import numpy as np
import torch
import diffusers
from diffusers import (DDPMScheduler, EulerAncestralDiscreteScheduler, EulerDiscreteScheduler,
                       HeunDiscreteScheduler, KDPM2AncestralDiscreteScheduler, KDPM2DiscreteScheduler,
                       LCMScheduler, LMSDiscreteScheduler, TCDScheduler)

SD = {"num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear",
      "trained_betas": None}

# name, class, CLI name, config over SD's, steps, seed, step kwargs (eta)
RUNS = [
    ("heun_steps25_seed11", HeunDiscreteScheduler, "heun", {}, 25, 11, {}),
    ("heun-karras-v_steps25_seed3", HeunDiscreteScheduler, "heun", {"use_karras_sigmas": True, "prediction_type": "v_prediction"}, 25, 3, {}),
    ("heun-leading-sample-clip_steps25_seed4", HeunDiscreteScheduler, "heun",
     {"timestep_spacing": "leading", "steps_offset": 1, "prediction_type": "sample", "clip_sample": True, "clip_sample_range": 0.8}, 25, 4, {}),
    ("heun-trailing-linear_steps25_seed5", HeunDiscreteScheduler, "heun",
     {"timestep_spacing": "trailing", "beta_schedule": "linear", "beta_start": 0.0001, "beta_end": 0.02}, 25, 5, {}),
    ("heun-exp-karras-sigmamin_steps25_seed6", HeunDiscreteScheduler, "heun",
     {"beta_schedule": "exp", "use_karras_sigmas": True, "sigma_min": 0.1, "sigma_max": 10.0}, 25, 6, {}),
    ("kdpm2_steps25_seed12", KDPM2DiscreteScheduler, "kdpm2", {}, 25, 12, {}),
    ("kdpm2-karras_steps25_seed13", KDPM2DiscreteScheduler, "kdpm2", {"use_karras_sigmas": True}, 25, 13, {}),
    ("kdpm2-leading-v_steps25_seed14", KDPM2DiscreteScheduler, "kdpm2",
     {"timestep_spacing": "leading", "steps_offset": 1, "prediction_type": "v_prediction"}, 25, 14, {}),
    ("kdpm2-a_steps25_seed15", KDPM2AncestralDiscreteScheduler, "kdpm2-a", {}, 25, 15, {}),
    ("kdpm2-a-karras_steps25_seed16", KDPM2AncestralDiscreteScheduler, "kdpm2-a", {"use_karras_sigmas": True}, 25, 16, {}),
    ("kdpm2-a-trailing-v_steps25_seed17", KDPM2AncestralDiscreteScheduler, "kdpm2-a",
     {"timestep_spacing": "trailing", "prediction_type": "v_prediction"}, 25, 17, {}),
    ("lms_steps25_seed18", LMSDiscreteScheduler, "lms", {}, 25, 18, {}),
    ("lms-karras_steps25_seed19", LMSDiscreteScheduler, "lms", {"use_karras_sigmas": True}, 25, 19, {}),
    ("lms-leading-v_steps25_seed20", LMSDiscreteScheduler, "lms",
     {"timestep_spacing": "leading", "steps_offset": 1, "prediction_type": "v_prediction"}, 25, 20, {}),
    ("lms-trailing-sample_steps25_seed21", LMSDiscreteScheduler, "lms", {"timestep_spacing": "trailing", "prediction_type": "sample"}, 25, 21, {}),
    ("ddpm_steps25_seed22", DDPMScheduler, "ddpm", {"steps_offset": 1, "clip_sample": False}, 25, 22, {}),
    ("ddpm-smalllog-v-trailing_steps25_seed23", DDPMScheduler, "ddpm",
     {"variance_type": "fixed_small_log", "prediction_type": "v_prediction", "timestep_spacing": "trailing"}, 25, 23, {}),
    ("ddpm-large-sample-clip_steps25_seed24", DDPMScheduler, "ddpm",
     {"variance_type": "fixed_large", "prediction_type": "sample", "clip_sample": True, "timestep_spacing": "linspace"}, 25, 24, {}),
    ("ddpm-zerosnr-v_steps25_seed25", DDPMScheduler, "ddpm",
     {"rescale_betas_zero_snr": True, "prediction_type": "v_prediction", "timestep_spacing": "trailing", "clip_sample": False}, 25, 25, {}),
    ("tcd_steps25_seed26", TCDScheduler, "tcd", {}, 25, 26, {"eta": 0.0}),
    ("tcd-eta03_steps25_seed27", TCDScheduler, "tcd", {}, 25, 27, {"eta": 0.3}),
    ("tcd-v-eta05_steps25_seed28", TCDScheduler, "tcd", {"prediction_type": "v_prediction", "original_inference_steps": 30}, 25, 28, {"eta": 0.5}),
    ("tcd-sample-zerosnr_steps25_seed29", TCDScheduler, "tcd", {"prediction_type": "sample", "rescale_betas_zero_snr": True}, 25, 29, {"eta": 0.3}),
    ("euler-karras_steps25_seed30", EulerDiscreteScheduler, "euler", {"use_karras_sigmas": True}, 25, 30, {}),
    ("euler-sample-leading_steps25_seed31", EulerDiscreteScheduler, "euler",
     {"prediction_type": "sample", "timestep_spacing": "leading", "steps_offset": 1}, 25, 31, {}),
    ("euler-zerosnr-v-trailing_steps25_seed32", EulerDiscreteScheduler, "euler",
     {"rescale_betas_zero_snr": True, "prediction_type": "v_prediction", "timestep_spacing": "trailing"}, 25, 32, {}),
    ("euler-a-zerosnr-v-trailing_steps25_seed33", EulerAncestralDiscreteScheduler, "euler-a",
     {"rescale_betas_zero_snr": True, "prediction_type": "v_prediction", "timestep_spacing": "trailing"}, 25, 33, {}),
    ("euler-a-leading_steps25_seed34", EulerAncestralDiscreteScheduler, "euler-a", {"timestep_spacing": "leading", "steps_offset": 1}, 25, 34, {}),
    ("lcm-sample-clip_steps25_seed35", LCMScheduler, "lcm", {"prediction_type": "sample", "clip_sample": True}, 25, 35, {}),
    ("lcm-v-zerosnr_steps25_seed36", LCMScheduler, "lcm", {"prediction_type": "v_prediction", "rescale_betas_zero_snr": True}, 25, 36, {}),
    ("lcm-thresholding_steps25_seed37", LCMScheduler, "lcm", {"thresholding": True, "sample_max_value": 1.5, "dynamic_thresholding_ratio": 0.9}, 25, 37, {}),
    ("ddpm-thresholding-sample_steps25_seed38", DDPMScheduler, "ddpm",
     {"thresholding": True, "sample_max_value": 2.0, "dynamic_thresholding_ratio": 0.9, "prediction_type": "sample"}, 25, 38, {}),
    ("euler-original-sample-trailing_steps25_seed39", EulerDiscreteScheduler, "euler",
     {"prediction_type": "original_sample", "timestep_spacing": "trailing"}, 25, 39, {}),
    ("euler-loglinear_steps25_seed40", EulerDiscreteScheduler, "euler", {"interpolation_type": "log_linear"}, 25, 40, {}),
    ("euler-loglinear-karras-leading_steps25_seed41", EulerDiscreteScheduler, "euler",
     {"interpolation_type": "log_linear", "use_karras_sigmas": True, "timestep_spacing": "leading", "steps_offset": 1}, 25, 41, {}),
    ("euler-continuous-v-karras_steps25_seed42", EulerDiscreteScheduler, "euler",
     {"timestep_type": "continuous", "prediction_type": "v_prediction", "use_karras_sigmas": True}, 25, 42, {}),
    ("euler-continuous-v_steps25_seed43", EulerDiscreteScheduler, "euler",
     {"timestep_type": "continuous", "prediction_type": "v_prediction"}, 25, 43, {}),
]

DUMMY = ("noise_pred = 0.3*x*cos(t/73) + 0.2*sin(1.7*x + t/211), x = latent_model_input, "
         "t = the timestep value as float, computed in float32")


def dummy_model(x, t):
    t = float(t)
    return 0.3 * x * math.cos(t / 73) + 0.2 * torch.sin(1.7 * x + t / 211)


def save(path, array):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.save(path, array)


def run(out, name, cls, cli, overrides, steps, seed, step_kwargs):
    config = {**SD, **overrides}
    sched = cls.from_config(config)
    sched.set_timesteps(steps)
    params = inspect.signature(sched.step).parameters
    gen = torch.Generator().manual_seed(seed)
    latents = torch.randn((1, 4, 8, 8), generator=gen, dtype=torch.float32)
    d = os.path.join(out, name)
    save(f"{d}/initial_latents.npy", latents.numpy())
    latents = latents * sched.init_noise_sigma
    kwargs = {k: v for k, v in step_kwargs.items() if k in params}
    if "generator" in params:
        kwargs["generator"] = gen
    timesteps, inputs, outputs = [], [], []
    for t in sched.timesteps:
        inp = sched.scale_model_input(latents, t)
        noise_pred = dummy_model(inp, t)
        latents = sched.step(noise_pred, t, latents, **kwargs).prev_sample
        timesteps.append(float(t))
        inputs.append(inp.numpy())
        outputs.append(latents.numpy())
    # One array per quantity, the U-Net call index first: [calls, 1, 4, 8, 8].
    save(f"{d}/latent_model_input.npy", np.stack(inputs))
    save(f"{d}/latents.npy", np.stack(outputs))
    manifest = {
        "format": "lockstep.trace/1",
        "producer": f"diffusers {diffusers.__version__} schedulers + torch {torch.__version__}, numpy {np.__version__}, dummy model",
        "pipeline": {"seed": seed, "noise": "torch-cpu", "steps": steps, "scheduler": cli, "guidanceScale": None,
                     "height": 64, "width": 64},
        "schedulerClass": cls.__name__,
        "schedulerConfig": config,
        "stepKwargs": step_kwargs,
        "timesteps": timesteps,
        "timestepDtype": str(sched.timesteps.dtype).replace("torch.", ""),
        "initNoiseSigma": float(sched.init_noise_sigma),
        "dummyModel": DUMMY,
        "rngNote": "the torch CPU generator that drew the initial latents is passed to scheduler.step when step takes one",
    }
    with open(f"{d}/manifest.json", "w") as fh:
        json.dump(manifest, fh, indent=1)


def lms_coefficients(out):
    cases = []
    for overrides, steps in [({}, 25), ({"use_karras_sigmas": True}, 20), ({"beta_schedule": "linear", "beta_start": 0.0001, "beta_end": 0.02}, 50),
                             ({"timestep_spacing": "trailing"}, 7)]:
        sched = LMSDiscreteScheduler.from_config({**SD, **overrides})
        sched.set_timesteps(steps)
        sigmas = [float(s) for s in sched.sigmas]
        for t in range(steps):
            order = min(t + 1, 4)
            for cur in range(order):
                cases.append({"t": t, "order": order, "currentOrder": cur, "value": sched.get_lms_coefficient(order, t, cur)})
        yield {"config": overrides, "steps": steps, "sigmas": sigmas, "cases": cases}
        cases = []


def torch_log_samples(out):
    """torch's float32 log (SLEEF xlogf_u1 on x86-64) on 4000 inputs, for lockstep's sleefLogf."""
    rs = np.random.RandomState(0)
    x = np.concatenate([rs.uniform(1e-4, 50, 2000), np.exp(rs.uniform(-80, 80, 2000))]).astype(np.float32)
    np.save(os.path.join(out, "torch_log_f32.npy"), np.stack([x, torch.from_numpy(x).log().numpy()]))


def main():
    out = sys.argv[1]
    torch_log_samples(out)
    for name, *rest in RUNS:
        if os.path.exists(os.path.join(out, name)):
            shutil.rmtree(os.path.join(out, name))
        run(out, name, *rest)
    with open(os.path.join(out, "lms_coefficients.json"), "w") as fh:
        json.dump({"producer": "scipy.integrate.quad via diffusers 0.27.2 LMSDiscreteScheduler.get_lms_coefficient",
                   "schedules": list(lms_coefficients(out))}, fh, indent=1)


if __name__ == "__main__":
    main()
