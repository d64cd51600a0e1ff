// The one exit path of every program (bin/, cluster/**/cli.ts, vm/, lib/node/cli.ts, upstream/, bench/, …):
// main's number is the exit code; an expected error (UserError, UsageError and their subclasses) prints one
// line and exits with its code from the table in errors.ts; anything else is a bug: its stack, exit 70.
import { ExitCode, errorMessage, exitCodeOf, UsageError, UserError } from './errors.ts';

export interface MainOptions {
  /** Printed after the message of a UsageError (unless the message is the usage itself, as for --help). */
  usage?: string;
}

/** What runMain writes to stderr for an error (pure, for tests). */
export function renderMainError(name: string, e: unknown, o: MainOptions = {}): string {
  if (e instanceof UsageError) return `${name}: ${e.message}\n${o.usage && !e.message.includes(o.usage) ? `${o.usage}\n` : ''}`;
  if (e instanceof UserError) return `${name}: ${e.message}\n`;
  return `${name}: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`;
}

/** Run a program's main and exit the process: with main's code (void: 0), or with the error's code. */
// biome-ignore lint/suspicious/noConfusingVoidType: a main may return nothing (exit 0) or its exit code
export function runMain(name: string, main: () => Promise<number | void> | number | void, o: MainOptions = {}): void {
  Promise.resolve()
    .then(main)
    .then(
      (code) => process.exit(code ?? ExitCode.ok),
      (e: unknown) => {
        process.stderr.write(renderMainError(name, e, o));
        process.exit(exitCodeOf(e));
      },
    );
}

/** A command-line parser's own error (node:util parseArgs throws TypeError on an unknown flag) as a UsageError. */
export function usageOnError<T>(parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    throw new UsageError(errorMessage(e));
  }
}
