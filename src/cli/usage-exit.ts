import type { Command } from 'commander';
import { CONFIG_EXIT_CODE } from './config-loading.js';

/** Commands whose bad usage exits with another code than 2 (`hbd status`: 3, Nagios's UNKNOWN). */
const ownCodes = new WeakMap<Command, number>();

/** Marks `command` as exiting with `code` on bad usage; `exitOnUsageError` then keeps to it. */
export function usageExitCode<T extends Command>(command: T, code: number): T {
  ownCodes.set(command, code);
  return command;
}

/**
 * Commander exits 1 on an unknown option, a missing argument or a missing subcommand; docs/cli.md
 * promises 2 for bad usage (1 is "it failed"). Applies to `command` and every command under it.
 * Help and --version still exit 0.
 */
export function exitOnUsageError(command: Command, inherited = CONFIG_EXIT_CODE): void {
  const code = ownCodes.get(command) ?? inherited;
  command.exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : code));
  for (const sub of command.commands) exitOnUsageError(sub, code);
}
