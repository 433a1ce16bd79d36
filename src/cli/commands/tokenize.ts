import type { Command } from 'commander';
import { loadClipTokenizer } from '../../tokenizer/index.ts';

/** `lockstep tokenize`: the 77 CLIP ids of a prompt as a JSON array, as the text encoder receives them. */
export function registerTokenize(program: Command): void {
  program
    .command('tokenize')
    .description("print a prompt's CLIP token ids (bos, ids, eos, padding) as a JSON array, exactly as transformers' CLIPTokenizer")
    .requiredOption('--tokenizer <dir>', 'tokenizer folder with vocab.json and merges.txt (e.g. <model>/tokenizer)')
    .requiredOption('--prompt <text>', 'the prompt')
    .action((opts: { tokenizer: string; prompt: string }) => {
      const tokenizer = loadClipTokenizer(opts.tokenizer);
      const { ids, truncated, tokenCount } = tokenizer.encode(opts.prompt);
      if (truncated) {
        const kept = tokenizer.maxLength - 2;
        process.stderr.write(
          `lockstep: warning: prompt has ${tokenCount} tokens; CLIP keeps the first ${kept}, the last ${tokenCount - kept} were truncated\n`,
        );
      }
      process.stdout.write(`${JSON.stringify(ids)}\n`);
    });
}
