/**
 * Errors that the CLI turns into exit codes. Anything that stops a run from
 * being made (bad input, missing file, unsupported setting) is a UsageError:
 * exit 2. A regression found by a comparison is not an error at all: it is a
 * verdict, and the CLI maps it to exit 1.
 */
export const EXIT_PASS = 0;
export const EXIT_REGRESSION = 1;
export const EXIT_CANNOT_RUN = 2;
export const EXIT_INTERRUPTED = 130;

/** Bad input: the message names the file, tensor or setting and what was expected. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Wraps any error with the file it concerns, unless the message already names it. */
export function withFile(file: string, err: unknown): UsageError {
  const message = err instanceof Error ? err.message : String(err);
  return new UsageError(message.includes(file) ? message : `${file}: ${message}`, { cause: err });
}
