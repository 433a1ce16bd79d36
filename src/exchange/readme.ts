/** The README.md written beside exported inputs: how another runtime answers. */
import { shapeString } from '../tensor/tensor.ts';
import type { ExchangeManifest } from './format.ts';

export function exchangeReadme(m: ExchangeManifest): string {
  const examples = m.components.map((c) => {
    const call = m.calls.find((k) => k.component === c);
    if (!call) return '';
    const ins = Object.entries(call.inputs).map(([n, f]) => `\`${n}\` ${f.dtype}${shapeString(f.shape)}`).join(', ');
    const outs = Object.entries(call.outputs).map(([n, f]) => `\`${f.file}\` (${n}, float32${shapeString(f.shape)})`).join(', ');
    return `- **${c}** (${m.calls.filter((k) => k.component === c).length} calls), e.g. ${call.role}: inputs ${ins} → write ${outs}`;
  });
  return `# U-Net/text-encoder/VAE inputs exported by lockstep

Reference trace: \`${m.reference}\`

Each entry of \`calls\` in \`manifest.json\` is one component call the reference made. Its \`inputs\` are
\`.npy\` files in this folder, exactly what the reference fed the component (names as optimum exports them;
the timestep keeps the dtype the trace recorded). Run your component on them and save each of its \`outputs\`
with \`numpy.save\` under the **outputs folder** (a separate folder), at the path given in \`file\`, with the
\`shape\` given (dtype float32; float16 and float64 are accepted and compared as float32).

${examples.join('\n')}

The U-Net output is the raw \`out_sample\` for the whole batch (uncond first when guided):
lockstep applies classifier-free guidance itself, as the reference did.

Then:

    lockstep import-outputs --inputs THIS_FOLDER --outputs OUTPUTS_FOLDER --out TRACE
    lockstep compare --reference ${m.reference} --candidate TRACE --report REPORT

A minimal answering script is in lockstep's docs/examples/answer_with_numpy.py.
`;
}
