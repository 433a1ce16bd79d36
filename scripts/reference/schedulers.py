"""Reference data for lockstep's schedulers, from real diffusers 0.27.2 (sched-a's part of issue #13).

    . /work/pyref/env.sh && /usr/bin/python3 scripts/reference/schedulers.py [signatures|numpy-log|runs|all]

Run it with Debian's torch 1.13 (/usr/bin/python3, numpy 1.24), as ../shared/reference was made: lockstep
models torch 1.13's CPU kernels (betas.ts: torch.linspace), and torch 2.13's linspace rounds ~20 % of SD's
betas differently by an ulp, which alone puts every run ~1e-6 off. With 1.13, 60 of the 74 runs are
bit-identical and the rest within 4e-7 of max(1, max|ref|).

torch-linspace: test/reference/schedulers/torch-linspace.json — torch.linspace on 12 ranges.
numpy-log:  test/reference/schedulers/numpy-log-f32.json — numpy's float32 log on 408 values.
signatures: test/reference/schedulers/signatures.json — every scheduler class's __init__ keys and defaults,
            as inspect.signature reports them (what options.ts must declare).
runs:       test/reference/schedulers/runs/<run>/ — scheduler-only runs with a stand-in model of only
            float32 + * / (bit-exact anywhere, unlike the shared references' sin), driven as StableDiffusionPipeline drives a scheduler (initial
            latents from the torch CPU generator times init_noise_sigma; the same generator passed to step()
            when step() takes one, as prepare_extra_step_kwargs does), tiny 1x4x8x8 latents, stacked to keep
            the data small: manifest.json (class, full config, timesteps, init_noise_sigma),
            latents.npy [steps+1, 1, 4, 8, 8] (index 0: scaled initial latents, then each prev_sample) and
            model_input.npy [steps, ...] only when scale_model_input scales (the stand-in model's output
            is recomputed by the test from the model input, so it is not stored).
"""
import inspect
import math
import json
import os
import shutil
import sys

import numpy as np
import torch
import diffusers

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'test', 'reference', 'schedulers')

CLASSES = [
    'DDIMScheduler', 'PNDMScheduler', 'EulerDiscreteScheduler', 'EulerAncestralDiscreteScheduler',
    'DPMSolverMultistepScheduler', 'LCMScheduler', 'UniPCMultistepScheduler', 'DEISMultistepScheduler',
    'DPMSolverSinglestepScheduler', 'HeunDiscreteScheduler', 'KDPM2DiscreteScheduler',
    'KDPM2AncestralDiscreteScheduler', 'LMSDiscreteScheduler', 'DDPMScheduler', 'TCDScheduler',
]


def numpy_log():
    """np.log on float32 (numpy's SIMD loop, not correctly rounded), which DEIS's coefficients use."""
    rng = np.random.default_rng(1)
    x = np.concatenate([np.exp(rng.uniform(-20, 12, 400)).astype(np.float32),
                        np.float32([1, 2, 0.5, 0.70710677, 0.7071068, 1.4142135, 3e-39, 1e-45])])
    with open(os.path.join(OUT, 'numpy-log-f32.json'), 'w') as fh:
        json.dump({'producer': f'numpy {np.__version__} np.log(float32)', 'x': [float(v) for v in x],
                   'log': [float(v) for v in np.log(x)]}, fh)


def torch_linspace():
    """torch.linspace(float32) on 12 ranges: lockstep's betas model its CPU kernel (betas.ts)."""
    import random
    random.seed(0)
    cases = [{'start': 0.0001, 'end': 0.02, 'steps': 1000}, {'start': 0.00085 ** 0.5, 'end': 0.012 ** 0.5, 'steps': 1000}]
    while len(cases) < 12:
        s = random.uniform(-1, 1) * 10 ** random.uniform(-5, 1)
        cases.append({'start': s, 'end': s + random.uniform(-1, 1) * 10 ** random.uniform(-4, 1), 'steps': random.choice([50, 257, 999])})
    for c in cases:
        c['values'] = torch.linspace(c['start'], c['end'], c['steps'], dtype=torch.float32).tolist()
    with open(os.path.join(OUT, 'torch-linspace.json'), 'w') as fh:
        json.dump({'producer': f'torch {torch.__version__} torch.linspace(dtype=float32)', 'cases': cases}, fh)


def signatures():
    out = {}
    for name in CLASSES:
        params = inspect.signature(getattr(diffusers, name).__init__).parameters
        out[name] = {k: p.default for k, p in params.items() if k != 'self'}
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, 'signatures.json'), 'w') as fh:
        json.dump({'producer': f'diffusers {diffusers.__version__} inspect.signature(Class.__init__)', 'classes': out}, fh, indent=1)
        fh.write('\n')


# SD 1.5's scheduler config without timestep_spacing, as the shared scheduler references use it.
SD_BASE = {
    'num_train_timesteps': 1000, 'beta_start': 0.00085, 'beta_end': 0.012, 'beta_schedule': 'scaled_linear',
    'trained_betas': None, 'steps_offset': 1, 'clip_sample': False, 'set_alpha_to_one': False, 'skip_prk_steps': True,
}
SHAPE = (1, 4, 8, 8)

DPM = 'DPMSolverMultistepScheduler'
UNIPC = 'UniPCMultistepScheduler'
DEIS = 'DEISMultistepScheduler'
SINGLE = 'DPMSolverSinglestepScheduler'
DDIM = 'DDIMScheduler'
PNDM = 'PNDMScheduler'
THRESHOLD = {'thresholding': True, 'sample_max_value': 2.0, 'dynamic_thresholding_ratio': 0.9}
ZSNR = {'rescale_betas_zero_snr': True, 'prediction_type': 'v_prediction', 'timestep_spacing': 'trailing'}

# (run name, class, config over SD_BASE, steps). Every option gets a run of >= 25 steps.
# A run's seed is 100 + its index: append new runs at the end so the others keep their data.
RUNS = [
    ('dpm-karras_s25', DPM, {'use_karras_sigmas': True}, 25),
    ('dpm-karras_s15', DPM, {'use_karras_sigmas': True}, 15),
    ('dpm-karras_s12', DPM, {'use_karras_sigmas': True}, 12),
    ('dpm-karras-sigma-min_s25', DPM, {'use_karras_sigmas': True, 'final_sigmas_type': 'sigma_min'}, 25),
    ('dpm-sigma-min_s25', DPM, {'final_sigmas_type': 'sigma_min'}, 25),
    ('dpm-lu_s25', DPM, {'use_lu_lambdas': True}, 25),
    ('dpm-order1_s25', DPM, {'solver_order': 1}, 25),
    ('dpm-order3_s25', DPM, {'solver_order': 3}, 25),
    ('dpm-order3_s10', DPM, {'solver_order': 3}, 10),
    ('dpm-heun_s25', DPM, {'solver_type': 'heun'}, 25),
    ('dpm-no-lower-order-final_s10', DPM, {'lower_order_final': False}, 10),
    ('dpm-euler-at-final_s25', DPM, {'euler_at_final': True, 'final_sigmas_type': 'sigma_min'}, 25),
    ('dpm-sde_s25', DPM, {'algorithm_type': 'sde-dpmsolver++'}, 25),
    ('dpm-sde-karras_s25', DPM, {'algorithm_type': 'sde-dpmsolver++', 'use_karras_sigmas': True}, 25),
    ('dpm-sde-heun_s25', DPM, {'algorithm_type': 'sde-dpmsolver++', 'solver_type': 'heun'}, 25),
    ('dpm-dpmsolver_s25', DPM, {'algorithm_type': 'dpmsolver', 'final_sigmas_type': 'sigma_min', 'solver_order': 3}, 25),
    ('dpm-dpmsolver-heun_s25', DPM, {'algorithm_type': 'dpmsolver', 'final_sigmas_type': 'sigma_min', 'solver_type': 'heun'}, 25),
    ('dpm-sde-dpmsolver_s25', DPM, {'algorithm_type': 'sde-dpmsolver', 'final_sigmas_type': 'sigma_min'}, 25),
    ('dpm-vpred_s25', DPM, {'prediction_type': 'v_prediction'}, 25),
    ('dpm-sample_s25', DPM, {'prediction_type': 'sample'}, 25),
    ('dpm-leading_s25', DPM, {'timestep_spacing': 'leading'}, 25),
    ('dpm-trailing_s25', DPM, {'timestep_spacing': 'trailing'}, 25),
    ('dpm-zsnr_s25', DPM, ZSNR, 25),
    ('dpm-thresholding_s25', DPM, THRESHOLD, 25),
    ('unipc_s25', UNIPC, {}, 25),
    ('unipc_s10', UNIPC, {}, 10),
    ('unipc-bh1_s25', UNIPC, {'solver_type': 'bh1'}, 25),
    ('unipc-order1_s25', UNIPC, {'solver_order': 1}, 25),
    ('unipc-order3_s25', UNIPC, {'solver_order': 3}, 25),
    ('unipc-order3-bh1_s12', UNIPC, {'solver_order': 3, 'solver_type': 'bh1'}, 12),
    ('unipc-no-corrector_s25', UNIPC, {'disable_corrector': [0, 1, 5, 20]}, 25),
    ('unipc-predict-eps_s25', UNIPC, {'predict_x0': False}, 25),
    ('unipc-predict-eps-order3_s25', UNIPC, {'predict_x0': False, 'solver_order': 3}, 25),
    ('unipc-no-lower-order-final_s10', UNIPC, {'lower_order_final': False}, 10),
    ('unipc-karras_s25', UNIPC, {'use_karras_sigmas': True}, 25),
    ('unipc-vpred_s25', UNIPC, {'prediction_type': 'v_prediction'}, 25),
    ('unipc-sample_s25', UNIPC, {'prediction_type': 'sample'}, 25),
    ('unipc-leading_s25', UNIPC, {'timestep_spacing': 'leading'}, 25),
    ('unipc-trailing_s25', UNIPC, {'timestep_spacing': 'trailing'}, 25),
    ('unipc-thresholding_s25', UNIPC, THRESHOLD, 25),
    ('deis_s25', DEIS, {}, 25),
    ('deis_s10', DEIS, {}, 10),
    ('deis-order1_s25', DEIS, {'solver_order': 1}, 25),
    ('deis-order3_s25', DEIS, {'solver_order': 3}, 25),
    ('deis-karras_s25', DEIS, {'use_karras_sigmas': True}, 25),
    ('deis-vpred_s25', DEIS, {'prediction_type': 'v_prediction'}, 25),
    ('deis-sample_s25', DEIS, {'prediction_type': 'sample'}, 25),
    ('deis-leading_s25', DEIS, {'timestep_spacing': 'leading'}, 25),
    ('deis-trailing_s25', DEIS, {'timestep_spacing': 'trailing'}, 25),
    ('single_s25', SINGLE, {}, 25),
    ('single_s10', SINGLE, {}, 10),
    ('single-order1_s25', SINGLE, {'solver_order': 1}, 25),
    ('single-order3_s25', SINGLE, {'solver_order': 3}, 25),
    ('single-order3_s11', SINGLE, {'solver_order': 3}, 11),
    ('single-lower-order-final_s25', SINGLE, {'lower_order_final': True}, 25),
    ('single-heun_s25', SINGLE, {'solver_type': 'heun', 'solver_order': 3}, 25),
    ('single-karras_s25', SINGLE, {'use_karras_sigmas': True}, 25),
    ('single-sigma-min_s25', SINGLE, {'final_sigmas_type': 'sigma_min'}, 25),
    ('single-dpmsolver_s25', SINGLE, {'algorithm_type': 'dpmsolver', 'final_sigmas_type': 'sigma_min', 'solver_order': 3}, 25),
    ('single-vpred_s25', SINGLE, {'prediction_type': 'v_prediction'}, 25),
    ('single-sample_s25', SINGLE, {'prediction_type': 'sample'}, 25),
    ('ddim-vpred_s25', DDIM, {'prediction_type': 'v_prediction'}, 25),
    ('ddim-sample_s25', DDIM, {'prediction_type': 'sample'}, 25),
    ('ddim-linspace_s25', DDIM, {'timestep_spacing': 'linspace'}, 25),
    ('ddim-trailing_s25', DDIM, {'timestep_spacing': 'trailing'}, 25),
    ('ddim-zsnr_s25', DDIM, ZSNR, 25),
    ('ddim-clip_s25', DDIM, {'clip_sample': True, 'clip_sample_range': 0.5, 'steps_offset': 0, 'set_alpha_to_one': True}, 25),
    ('ddim-thresholding_s25', DDIM, THRESHOLD, 25),
    ('pndm-prk_s25', PNDM, {'skip_prk_steps': False}, 25),
    ('pndm-vpred_s25', PNDM, {'prediction_type': 'v_prediction'}, 25),
    ('pndm-linspace_s25', PNDM, {'timestep_spacing': 'linspace'}, 25),
    ('pndm-trailing_s25', PNDM, {'timestep_spacing': 'trailing'}, 25),
    # sigma_min / sigma_max are no DPM-Solver keys, but from_config keeps them and _convert_to_karras reads them.
    ('dpm-karras-hidden-range_s25', DPM, {'use_karras_sigmas': True, 'sigma_min': 0.1, 'sigma_max': 10.0}, 25),
    ('unipc-karras-hidden-range_s25', UNIPC, {'use_karras_sigmas': True, 'sigma_min': 0.1, 'sigma_max': 10.0}, 25),
]


def dummy_model(x, t):
    """A stand-in model with only + * / in float32 (IEEE, so any runtime reproduces it bit for bit; the shared
    references' torch.sin is not correctly rounded, and this torch's comes from MKL): t a Python float, cos in
    float64 rounded where it meets the tensor."""
    t = float(t)
    return (0.3 * x) * math.cos(t / 73) + 0.2 * (x / (1 + x * x))


def one_run(name, class_name, overrides, steps, seed):
    cls = getattr(diffusers, class_name)
    scheduler = cls.from_config({**SD_BASE, **overrides})
    generator = torch.Generator().manual_seed(seed)
    takes_generator = 'generator' in inspect.signature(scheduler.step).parameters
    scheduler.set_timesteps(steps)
    latents = torch.randn(SHAPE, generator=generator, dtype=torch.float32) * scheduler.init_noise_sigma
    trajectory, noise_preds, inputs = [latents], [], []
    for t in scheduler.timesteps:
        model_input = scheduler.scale_model_input(latents, t)
        noise_pred = dummy_model(model_input, t)
        kwargs = {'generator': generator} if takes_generator else {}
        latents = scheduler.step(noise_pred, t, latents, **kwargs, return_dict=False)[0]
        trajectory.append(latents)
        noise_preds.append(noise_pred)
        inputs.append(model_input)
    stack = lambda ts: torch.stack(ts).numpy().astype(np.float32)
    scales = any(not torch.equal(i, l) for i, l in zip(inputs, trajectory))
    out = os.path.join(OUT, 'runs', name)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    np.save(os.path.join(out, 'latents.npy'), stack(trajectory))
    if scales:
        np.save(os.path.join(out, 'model_input.npy'), stack(inputs))
    config = {k: v for k, v in dict(scheduler.config).items() if not k.startswith('_')}
    manifest = {
        'producer': f'diffusers {diffusers.__version__} + torch {torch.__version__}, scripts/reference/schedulers.py',
        'className': class_name,
        'configGiven': {**SD_BASE, **overrides},
        'config': config,
        'steps': steps,
        'seed': seed,
        'shape': list(SHAPE),
        'timesteps': scheduler.timesteps.tolist(),
        'timestepDtype': str(scheduler.timesteps.dtype).replace('torch.', ''),
        'initNoiseSigma': float(scheduler.init_noise_sigma),
        'generatorPassedToStep': takes_generator,
        'dummyModel': 'rational-v1',
        'dummyModelFormula': 'noise_pred = (0.3*x)*cos(t/73) + 0.2*(x/(1 + x*x)), x = model input (float32), t = float(timestep), cos in float64',
    }
    with open(os.path.join(out, 'manifest.json'), 'w') as fh:
        json.dump(manifest, fh, indent=1, default=lambda v: list(v) if isinstance(v, (tuple, np.ndarray)) else str(v))
        fh.write('\n')


def runs(only=None):
    for i, (name, class_name, overrides, steps) in enumerate(RUNS):
        if only and not any(name.startswith(o) for o in only):
            continue
        one_run(name, class_name, overrides, steps, seed=100 + i)
        print(name)


if __name__ == '__main__':
    what = sys.argv[1] if len(sys.argv) > 1 else 'all'
    if what in ('signatures', 'all'):
        signatures()
    if what in ('torch-linspace', 'all'):
        torch_linspace()
    if what in ('numpy-log', 'all'):
        numpy_log()
    if what in ('runs', 'all'):
        runs(sys.argv[2:])
