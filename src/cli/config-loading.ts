import { homedir } from 'node:os';
import { ConfigError, type LoadResult, loadConfig, locateConfigFile } from '../config/load.js';

/** Finds and loads the config: `-c`, then $HBD_CONFIG, then ~/.hb.yaml, then the built-in defaults. */
export function readConfig(cliPath: string | undefined): LoadResult {
  const path = locateConfigFile({ cliPath, env: process.env, home: homedir() });
  return loadConfig({ path, env: process.env, home: homedir(), cwd: process.cwd() });
}

/** Like `readConfig`, but a bad config prints every problem and exits 2: no command runs on half a config. */
export function loadConfigOrExit(cliPath: string | undefined): LoadResult {
  try {
    return readConfig(cliPath);
  } catch (error) {
    if (error instanceof ConfigError) {
      printConfigError(error);
      process.exit(2);
    }
    throw error;
  }
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
