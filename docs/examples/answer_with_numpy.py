"""Answer lockstep export-inputs with any runtime: here a stand-in U-Net in numpy.

Usage: python answer_with_numpy.py INPUTS_DIR OUTPUTS_DIR
Replace `unet` with a call into your runtime (a GPU, an NPU SDK, a C++ port).
"""
import json, os, sys
import numpy as np

inputs, outputs = sys.argv[1], sys.argv[2]
manifest = json.load(open(os.path.join(inputs, "manifest.json")))

def unet(sample, timestep, encoder_hidden_states, **extra):  # extra: timestep_cond (LCM), text_embeds, time_ids (SDXL)
    return (0.1 * sample).astype(np.float32)  # stand-in: your runtime's out_sample, same shape as sample

for call in manifest["calls"]:
    if call["component"] != "unet":
        continue
    args = {name: np.load(os.path.join(inputs, f["file"])) for name, f in call["inputs"].items()}
    out = call["outputs"]["out_sample"]
    path = os.path.join(outputs, out["file"])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.save(path, unet(**args).reshape(out["shape"]))
