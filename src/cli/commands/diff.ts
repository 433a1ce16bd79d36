import { Command } from 'commander';
import { diffPaths, formatDiffTable } from '../../diff/diff.ts';

export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description('metric table of two .npy files, or of every tensor two trace folders both hold')
    .argument('<a>', 'reference .npy file or trace folder')
    .argument('<b>', 'candidate .npy file or trace folder')
    .option('--json', 'print JSON instead of a table')
    .action((a: string, b: string, opts: { json?: boolean }) => {
      const result = diffPaths(a, b);
      const text = opts.json ? JSON.stringify(result, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2) + '\n' : formatDiffTable(result);
      process.stdout.write(text);
    });
}
