/**
 * Differences in how two builds' components are declared. A dtype change on
 * an input is the classic porting bug (timestep fed as float and truncated),
 * so it is worth saying in words, not only in numbers.
 */
import type { ComponentSignature, Finding, TensorSignature } from '../report/schema.ts';

const COMPONENT_WORDS: Record<string, string> = { unet: 'U-Net', textEncoder: 'text encoder', textEncoder2: 'second text encoder', vaeEncoder: 'VAE encoder', vaeDecoder: 'VAE decoder' };

export function signatureFindings(
  reference: Record<string, ComponentSignature>,
  candidate: Record<string, ComponentSignature>,
): Finding[] {
  const findings: Finding[] = [];
  for (const [component, ref] of Object.entries(reference)) {
    const cand = candidate[component];
    if (!cand) continue;
    findings.push(...diffList(component, 'input', ref.inputs, cand.inputs), ...diffList(component, 'output', ref.outputs, cand.outputs));
  }
  return findings;
}

function diffList(component: string, role: 'input' | 'output', ref: TensorSignature[], cand: TensorSignature[]): Finding[] {
  const what = COMPONENT_WORDS[component] ?? component;
  const out: Finding[] = [];
  const finding = (message: string, severity: Finding['severity']): Finding => ({ kind: 'signature', severity, message, component, source: 'engine' });
  for (const r of ref) {
    const c = cand.find((s) => s.name === r.name);
    if (!c) {
      out.push(finding(`${what} ${role} '${r.name}' exists in the reference but not in the candidate`, 'warning'));
      continue;
    }
    if (c.dtype !== r.dtype) out.push(finding(dtypeMessage(what, role, r, c), 'warning'));
    const fixedDiff = r.shape.length !== c.shape.length || r.shape.some((d, i) => typeof d === 'number' && typeof c.shape[i] === 'number' && d !== c.shape[i]);
    if (fixedDiff) {
      out.push(finding(`${what} ${role} '${r.name}' has shape [${c.shape}] in the candidate, [${r.shape}] in the reference`, 'warning'));
    }
  }
  for (const c of cand) {
    if (!ref.some((r) => r.name === c.name)) out.push(finding(`${what} ${role} '${c.name}' exists in the candidate but not in the reference`, 'info'));
  }
  return out;
}

function dtypeMessage(what: string, role: string, r: TensorSignature, c: TensorSignature): string {
  const base = `${what} ${r.name} is ${c.dtype} in the candidate, ${r.dtype} in the reference`;
  if (role === 'input') return `${base}: lockstep casts the value to what each model declares; check that the port does the same`;
  return `${base}: outputs are compared in float32`;
}
