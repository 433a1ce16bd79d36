import type { Command } from 'commander';
import { classCatalog, formatCatalog, samplerCatalog } from '../../schedulers/catalog.ts';

/** `lockstep schedulers`: the scheduler names --scheduler accepts, and each class's options with the values implemented. */
export function registerSchedulers(program: Command): void {
  program
    .command('schedulers')
    .description('list the schedulers --scheduler accepts (web-UI names, short names, diffusers classes) and the options each implements')
    .option('--json', 'print the listing as JSON')
    .action((opts: { json?: boolean }) => {
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ samplers: samplerCatalog(), classes: classCatalog() }, null, 1)}\n`);
      } else {
        process.stdout.write(formatCatalog());
      }
    });
}
