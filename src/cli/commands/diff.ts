import { Command } from 'commander';
import { diffPaths, formatDiffTable } from '../../diff/diff.ts';
import { describeDifferences } from '../../lockstep/settings-diff.ts';
import { UsageError } from '../../errors.ts';
import { DEFAULT_TOLERANCE } from '../../metrics/index.ts';

function tolerance(flag: string) {
  return (v: string): number => {
    const x = Number(v);
    if (v.trim() === '' || !Number.isFinite(x) || x < 0) throw new UsageError(`${flag} ${v}: expected a finite number >= 0`);
    return x;
  };
}

export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description('metric table of two .npy files, or of every tensor two trace folders both hold')
    .argument('<a>', 'reference .npy file or trace folder')
    .argument('<b>', 'candidate .npy file or trace folder')
    .option('--json', 'print JSON instead of a table (per tensor the keys of a report.json tensor entry)')
    .option('--atol <x>', 'absolute tolerance of the element-wise check |b − a| <= atol + rtol·|a|', tolerance('--atol'), DEFAULT_TOLERANCE.atol)
    .option('--rtol <x>', 'relative tolerance of the element-wise check', tolerance('--rtol'), DEFAULT_TOLERANCE.rtol)
    .action((a: string, b: string, opts: { json?: boolean; atol: number; rtol: number }) => {
      const result = diffPaths(a, b, { atol: opts.atol, rtol: opts.rtol });
      if (result.settingsDiffer.length) process.stderr.write(`lockstep: warning: ${describeDifferences(result.settingsDiffer)}\n`);
      const text = opts.json ? JSON.stringify(result, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2) + '\n' : formatDiffTable(result);
      process.stdout.write(text);
    });
}
