/** The README.md written beside exported inputs: how another runtime answers. */
import { shapeString } from '../tensor/tensor.ts';
import { type ExchangeManifest, specShape } from './format.ts';

export function exchangeReadme(m: ExchangeManifest): string {
  const examples = m.components.map((c) => {
    const call = m.calls.find((k) => k.component === c);
    if (!call) return '';
    const ins = Object.entries(call.inputs).map(([n, f]) => `\`${n}\` ${f.dtype}${shapeString(f.shape)}`).join(', ');
    const outs = Object.entries(call.outputs).map(([n, f]) => `\`${f.file}\` (${n}, float32${specShape(f.shape)})`).join(', ');
    return `- **${c}** (${m.calls.filter((k) => k.component === c).length} calls), e.g. ${call.role}: inputs ${ins} → write ${outs}`;
  });
  return `# Component inputs exported by lockstep

Reference trace: \`${m.reference}\`

Each entry of \`calls\` in \`manifest.json\` is one component call the reference made. Its \`inputs\` are
\`.npy\` files in this folder, exactly what the reference fed the component (names as optimum exports them;
the timestep keeps the dtype the trace recorded). Run your component on them and save each of its \`outputs\`
with \`numpy.save\` under the **outputs folder** (a separate folder), at the path given in \`file\`, with the
\`shape\` given (dtype float32; float16 and float64 are accepted and compared as float32).

${examples.join('\n')}

The U-Net output is the raw \`out_sample\` for the whole batch (uncond first when guided):
lockstep applies classifier-free guidance itself, as the reference did.
${sdxlText(m)}${m.components.includes('vae_encoder') ? VAE_ENCODER : ''}
Then:

    lockstep import-outputs --inputs THIS_FOLDER --outputs OUTPUTS_FOLDER --out TRACE
    lockstep compare --reference ${m.reference} --candidate TRACE --report REPORT

A minimal answering script is in lockstep's docs/examples/answer_with_numpy.py.
`;
}

/** SDXL text encoders: what `any` means and what import-outputs does with the answers. */
function sdxlText(m: ExchangeManifest): string {
  if (!m.context?.prompt_embeds) return '';
  const width = m.context.prompt_embeds.shape.at(-1);
  return `
SDXL text encoders: answer each encoder's **penultimate** hidden state (transformers' \`hidden_states[-2]\`,
optimum's \`hidden_states.{N-1}\` of N layers), and for \`text_encoder_2\` its projected pooled \`text_embeds\`.
\`any\` in a shape is the encoder's own hidden size; the two encoders' sizes must add up to ${width}, the width of
the reference's prompt embeddings (\`${m.context.prompt_embeds.file}\`, which lockstep uses to fill in an encoder
you do not answer).${m.zeroNegative ? ' The negative prompt is empty, so its embeddings are zeros (force_zeros_for_empty_prompt): nothing to answer for it.' : ''}
`;
}

const VAE_ENCODER = `
VAE encoder: \`sample\` is the preprocessed image in [-1, 1]; answer the encoder's raw output — \`latent_parameters\`
(mean and log-variance, 2C channels) or, where the reference's export sampled inside the graph, \`latent_sample\`.
An encoder of the other kind may write the other file instead (latent_sample.npy with C channels, or
latent_parameters.npy with 2C); compare then notes that the two outputs are different quantities and skips the check.
`;
