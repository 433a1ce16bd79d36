/**
 * The `lockstep` command line. Commands are thin: each parses its flags and
 * calls into the library. Exit codes: 0 pass, 1 regression found, 2 could not
 * run (bad input), 130 interrupted.
 *
 * Start-up: this module imports only commander and a few small files; the
 * command being run is imported on demand (see commands/index.ts).
 */
import { Command, CommanderError } from 'commander';
import { EXIT_CANNOT_RUN, UsageError } from '../errors.ts';
import { LOCKSTEP_VERSION, ORT_VERSION, ortWebVersion } from '../version.ts';
import { COMMANDS, type CommandEntry } from './commands/index.ts';

/**
 * The program for these arguments: the requested command fully loaded, every
 * other command only as a name and summary (enough for `--help` and for
 * commander's "unknown command, did you mean" message).
 */
export async function buildProgram(argv: readonly string[]): Promise<Command> {
  const program = new Command('lockstep')
    .description('Prove an optimized or ported Stable Diffusion build computes what the reference computes, step by step.')
    .version(`${LOCKSTEP_VERSION} (onnxruntime-node ${ORT_VERSION}, onnxruntime-web ${ortWebVersion()})`)
    .showHelpAfterError()
    .exitOverride()
    .addHelpText('after', "\nRun 'lockstep <command> --help' for a command's flags.");
  const requested = requestedCommand(argv);
  for (const entry of COMMANDS) {
    if (entry === requested) for (const register of await entry.load()) register(program);
    else program.command(entry.name).description(entry.summary);
  }
  return program;
}

/** The command named by the first non-flag argument (`lockstep help X` names X); top-level flags take no values. */
function requestedCommand(argv: readonly string[]): CommandEntry | undefined {
  const words = argv.slice(2).filter((a) => !a.startsWith('-'));
  const name = words[0] === 'help' ? words[1] : words[0];
  return COMMANDS.find((c) => c.name === name);
}

/** Runs the CLI; returns the exit code instead of exiting so tests can call it in-process. */
export async function main(argv: readonly string[]): Promise<number> {
  let exitCode = 0;
  try {
    const program = await buildProgram(argv);
    await program.parseAsync([...argv]);
    exitCode = (program as Command & { lockstepExitCode?: number }).lockstepExitCode ?? 0;
  } catch (err) {
    exitCode = reportError(err);
  }
  return exitCode;
}

/**
 * Control characters in an error line (a path may hold ESC sequences that would recolour, move the
 * cursor or retitle the terminal) are shown escaped, like \x1b; the line stays one line.
 */
export function escapeControls(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // --help and --version exit 0; parse errors were already printed by commander.
    return err.exitCode === 0 ? 0 : EXIT_CANNOT_RUN;
  }
  if (err instanceof UsageError) {
    process.stderr.write(`lockstep: error: ${escapeControls(err.message)}\n`);
    return EXIT_CANNOT_RUN;
  }
  process.stderr.write(`lockstep: could not run: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return EXIT_CANNOT_RUN;
}
