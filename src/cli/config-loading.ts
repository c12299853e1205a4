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
      process.stderr.write(`hbd: the config has ${error.problems.length} problem(s):\n`);
      for (const problem of error.problems) process.stderr.write(`  ${problem}\n`);
      process.exit(2);
    }
    throw error;
  }
}

export function problemsOf(error: unknown): string[] {
  return error instanceof ConfigError ? error.problems : [(error as Error).message];
}
