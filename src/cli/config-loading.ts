import { homedir } from 'node:os';
import { formatProblem, inFileOrder } from '../config/errors.js';
import { ConfigError, type LoadResult, loadConfig, locateConfigFile } from '../config/load.js';
import { readTlsFiles } from '../config/tls-files.js';
import { dnsUpdaterSettingsOf } from '../daemon/dns-settings.js';
import { createUpdater } from '../dns/create-updater.js';

/** Config problems and bad usage: docs/cli.md promises this code for both, for every command. */
export const CONFIG_EXIT_CODE = 2;
/** A certificate this close to its end is worth a warning at every start. */
const CERT_WARN_DAYS = 14;

/**
 * Finds and loads the config: `-c`, then $HBD_CONFIG, then ~/.hb.yaml, then the built-in defaults.
 * `strict`: unknown keys are problems, not warnings.
 */
export function readConfig(cliPath: string | undefined, { strict = false } = {}): LoadResult {
  const path = locateConfigFile({ cliPath, env: process.env, home: homedir() });
  return loadConfig({ path, env: process.env, home: homedir(), cwd: process.cwd(), strict });
}

/**
 * Like `readConfig`, but a bad config prints every problem and exits (2, unless the command gives
 * its own code): no command runs on half a config.
 */
export function loadConfigOrExit(cliPath: string | undefined, exitCode = CONFIG_EXIT_CODE): LoadResult {
  try {
    return readConfig(cliPath);
  } catch (error) {
    if (error instanceof ConfigError) {
      printConfigError(error);
      process.exit(exitCode);
    }
    throw error;
  }
}

/**
 * What the schema cannot see but `serve` would trip on: the TLS certificate and key (there, readable,
 * and belonging together) and the DNS key file (notification channels are checked by the schema). Both
 * `check-config` and `serve` run it, so they agree on what a bad config is. Returns every warning,
 * the loaded config's first; throws a ConfigError listing every problem, with those warnings.
 */
export function checkStartupFiles(loaded: LoadResult, now = new Date()): string[] {
  const { config } = loaded;
  const problems: string[] = [];
  const warnings: string[] = [];
  try {
    const tls = readTlsFiles(config);
    if (tls) {
      const daysLeft = (tls.validTo.getTime() - now.getTime()) / 86_400_000;
      if (daysLeft < 0) {
        warnings.push(
          `tls_cert: ${config.tls_cert} expired on ${tls.validTo.toISOString()}; browsers refuse it`,
        );
      } else if (daysLeft < CERT_WARN_DAYS) {
        warnings.push(`tls_cert: ${config.tls_cert} expires on ${tls.validTo.toISOString()}; renew it`);
      }
    }
  } catch (error) {
    problems.push(...problemsOf(error));
  }
  if (config.dyndomains.length > 0) {
    // Reads the TSIG key file and checks the key, as hbd does when it starts.
    try {
      createUpdater(...dnsUpdaterSettingsOf(config));
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  // Named at their line, like the schema's problems, and in the same order.
  const placed = (messages: string[]) =>
    inFileOrder([...messages.map((message) => locatedProblem(loaded, message))], loaded.sourceName);
  const allWarnings = [...loaded.warnings, ...placed(warnings)];
  if (problems.length > 0) throw new ConfigError(placed(problems), allWarnings);
  return allWarnings;
}

/**
 * `tls_key: … is not the private key …` becomes `hb.yaml:12: tls_key: …`: the checks of files
 * name the key they are about, and the loaded config knows where that key was set.
 */
function locatedProblem(loaded: LoadResult, message: string): string {
  const match = /^([a-z_]+(?:\.[a-z_]+)*): (.*)$/s.exec(message);
  if (!match) return message;
  return formatProblem(loaded.locate(match[1]!.split('.')), match[2]!);
}

/** Every problem, then the warnings: a misspelt key often explains a missing value. */
export function printConfigError(error: unknown): void {
  const problems = problemsOf(error);
  process.stderr.write(`hbd: the config has ${problems.length} problem(s):\n`);
  for (const problem of problems) process.stderr.write(`  ${problem}\n`);
  if (error instanceof ConfigError) {
    for (const warning of error.warnings) process.stderr.write(`warning: ${warning}\n`);
  }
}

export function problemsOf(error: unknown): string[] {
  return error instanceof ConfigError ? error.problems : [(error as Error).message];
}
