/**
 * The `lockstep` command line. Commands are thin: each parses its flags and
 * calls into the library. Exit codes: 0 pass, 1 regression found, 2 could not
 * run (bad input), 130 interrupted.
 */
import { Command, CommanderError } from 'commander';
import { EXIT_CANNOT_RUN, UsageError } from '../errors.ts';
import { LOCKSTEP_VERSION, ORT_VERSION } from '../version.ts';
import { COMMANDS } from './commands/index.ts';

export function buildProgram(): Command {
  const program = new Command('lockstep')
    .description('Prove an optimized or ported Stable Diffusion build computes what the reference computes, step by step.')
    .version(`${LOCKSTEP_VERSION} (onnxruntime-node ${ORT_VERSION})`)
    .showHelpAfterError()
    .exitOverride();
  for (const register of COMMANDS) register(program);
  return program;
}

/** Runs the CLI; returns the exit code instead of exiting so tests can call it in-process. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  let exitCode = 0;
  try {
    await program.parseAsync([...argv]);
    exitCode = (program as Command & { lockstepExitCode?: number }).lockstepExitCode ?? 0;
  } catch (err) {
    exitCode = reportError(err);
  }
  return exitCode;
}

function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // --help and --version exit 0; parse errors were already printed by commander.
    return err.exitCode === 0 ? 0 : EXIT_CANNOT_RUN;
  }
  if (err instanceof UsageError) {
    process.stderr.write(`lockstep: error: ${err.message}\n`);
    return EXIT_CANNOT_RUN;
  }
  process.stderr.write(`lockstep: could not run: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return EXIT_CANNOT_RUN;
}
