import { Command } from 'commander';
import { importOutputs } from '../../exchange/import-outputs.ts';

export function registerImportOutputs(program: Command): void {
  program
    .command('import-outputs')
    .description("turn another runtime's answers to export-inputs into a teacher-forced trace that compare accepts as candidate")
    .requiredOption('--inputs <dir>', 'folder written by lockstep export-inputs')
    .requiredOption('--outputs <dir>', "the other runtime's answers (files named in the inputs' manifest.json)")
    .requiredOption('--out <dir>', 'trace to write')
    .addHelpText('after', '\nThen: lockstep compare --reference REF_TRACE --candidate OUT --report DIR\nExit codes: 0 written, 2 an answer is missing or has the wrong shape/dtype (named), or could not run.')
    .action((opts: { inputs: string; outputs: string; out: string }) => {
      const r = importOutputs(opts);
      process.stdout.write(`imported ${r.calls} answers; teacher-forced trace: ${r.trace}\n`);
    });
}
