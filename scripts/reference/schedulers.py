"""Reference data for lockstep's schedulers, from real diffusers 0.27.2 (sched-a's part of issue #13).

    . /work/pyref/env.sh && $PY scripts/reference/schedulers.py [signatures|runs|all]

signatures: test/reference/schedulers/signatures.json — every scheduler class's __init__ keys and defaults,
            as inspect.signature reports them (what options.ts must declare).
runs:       test/reference/schedulers/<run>/ — scheduler-only runs with the stand-in model of
            ../shared/reference/schedulers (same manifest/trace layout, tiny 1x4x8x8 latents), one per
            scheduler and option; see RUNS below.
"""
import inspect
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


def signatures():
    out = {}
    for name in CLASSES:
        params = inspect.signature(getattr(diffusers, name).__init__).parameters
        out[name] = {k: p.default for k, p in params.items() if k != 'self'}
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, 'signatures.json'), 'w') as fh:
        json.dump({'producer': f'diffusers {diffusers.__version__} inspect.signature(Class.__init__)', 'classes': out}, fh, indent=1)
        fh.write('\n')


if __name__ == '__main__':
    what = sys.argv[1] if len(sys.argv) > 1 else 'all'
    if what in ('signatures', 'all'):
        signatures()
