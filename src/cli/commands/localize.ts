import type { Command } from 'commander';
import { EXIT_PASS, EXIT_REGRESSION, UsageError } from '../../errors.ts';
import { type LocalizeMode, type Strategy, localize } from '../../localize/localize.ts';
import type { MatchMode } from '../../localize/match.ts';
import { writeLocalizeReport } from '../../localize/report.ts';
import { parseThresholds } from '../../localize/thresholds.ts';
import type { ComponentName } from '../../models/component.ts';
import { readModelLayout } from '../../models/layout.ts';
import { addBackendFlags, backendFromFlags } from '../backend-flags.ts';

interface LocalizeFlags {
  reference: string;
  candidate: string;
  component: string;
  step?: string;
  inputs?: string;
  trace?: string;
  mode: string;
  match: string;
  strategy: string;
  maxMemory?: string;
  threshold: string[];
  report: string;
  [key: string]: unknown;
}

/** `lockstep localize`: the first node inside one component where the candidate diverges (docs/localize.md). */
export function registerLocalize(program: Command): void {
  const cmd = program
    .command('localize')
    .description('find the first node inside one component (unet, text_encoder, vae_decoder) where the candidate diverges from the reference')
    .requiredOption('--reference <path>', 'reference model folder (or the component .onnx file)')
    .requiredOption('--candidate <path>', 'candidate model folder (or the component .onnx file)')
    .requiredOption('--component <name>', 'unet | text_encoder | vae_decoder')
    .option('--trace <dir>', 'trace whose tensors feed the component (U-Net: --step; text encoder: text/cond_ids; VAE: final/latents)')
    .option('--step <n>', 'U-Net step of the trace (default 0)')
    .option('--inputs <dir>', 'folder of .npy files named after the model inputs, instead of --trace')
    .option('--mode <mode>', 'entire (whole component, inherited error included) | single (each node fed the reference inputs)', 'entire')
    .option('--match <how>', 'auto | name | topology', 'auto')
    .option('--strategy <s>', 'scan (every value) | bisect (cut points, fewer runs)', 'scan')
    .option('--max-memory <MB>', 'MiB of captured tensors held at once, both builds together (default: no limit)')
    .option('--threshold <key=value>', 'cosine=MIN, relL2=MAX, maxAbs=MAX (repeatable; default cosine=0.9999 relL2=0.01)', (v: string, p: string[]) => [...p, v], [])
    .requiredOption('--report <dir>', 'where report.json and report.html go');
  addBackendFlags(addBackendFlags(cmd), 'cand').action(async (flags: LocalizeFlags) => {
    const component = oneOf(flags.component, ['unet', 'text_encoder', 'vae_decoder'], '--component') as ComponentName;
    if (!flags.trace && !flags.inputs) throw new UsageError('localize needs --trace TRACE or --inputs DIR for the component inputs');
    const result = await localize({
      reference: flags.reference,
      candidate: flags.candidate,
      component,
      inputs: { trace: flags.trace, inputsDir: flags.inputs, step: flags.step === undefined ? undefined : positiveInt(flags.step, '--step', 0), vaeScalingFactor: component === 'vae_decoder' ? scalingFactor(flags.reference) : undefined },
      mode: oneOf(flags.mode, ['entire', 'single'], '--mode') as LocalizeMode,
      match: oneOf(flags.match, ['auto', 'name', 'topology'], '--match') as MatchMode,
      strategy: oneOf(flags.strategy, ['scan', 'bisect'], '--strategy') as Strategy,
      maxMemoryBytes: flags.maxMemory === undefined ? undefined : positiveInt(flags.maxMemory, '--max-memory', 1) * 1024 * 1024,
      thresholds: parseThresholds(flags.threshold),
      backend: backendFromFlags(flags as Record<string, string | undefined>),
      candidateBackend: backendFromFlags(flags as Record<string, string | undefined>, 'cand', backendFromFlags(flags as Record<string, string | undefined>)),
    });
    await writeLocalizeReport(result, flags.report);
    const f = result.first;
    process.stdout.write(
      f
        ? `first divergent node: ${f.match.refNode.name} (${f.match.refNode.opType}), value ${f.match.reference}: ${(f.failed.length ? f.failed : (f.own?.failed ?? [])).join('; ')}\n`
        : `no divergence among ${result.counts.matched} matched values\n`,
    );
    if (result.notExposable.length) {
      process.stdout.write(`${result.notExposable.length} value(s) ONNX Runtime would not expose were left out (listed in the report)\n`);
    }
    process.stdout.write(`${result.stats.runs} ORT runs, ${result.stats.batches} batches; report in ${flags.report}\n`);
    (program as Command & { lockstepExitCode?: number }).lockstepExitCode = f ? EXIT_REGRESSION : EXIT_PASS;
  });
}

function oneOf(value: string, allowed: string[], flag: string): string {
  if (!allowed.includes(value)) throw new UsageError(`${flag} ${value}: expected one of ${allowed.join(', ')}`);
  return value;
}

function positiveInt(value: string, flag: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} ${value}: expected an integer ≥ ${min}`);
  return n;
}

/** The VAE scaling factor from the reference folder's config, when it is a model folder. */
function scalingFactor(reference: string): number | undefined {
  try {
    return readModelLayout(reference).vaeScalingFactor;
  } catch {
    return undefined;
  }
}
