import { expect } from 'vitest';
import { ConfigError, type LoadResult, parseConfig } from '../../src/config/load.js';
import type { Env } from '../../src/config/paths.js';

export const HOME = '/home/ops';
export const CONFIG_DIR = '/etc/hbd';

/** Parses config lines as the file `hb.yaml` in CONFIG_DIR; line n of the file is lines[n - 1]. */
export function parse(lines: readonly string[], env: Env = {}): LoadResult {
  return parseConfig(lines.join('\n'), { sourceName: 'hb.yaml', baseDir: CONFIG_DIR, env, home: HOME });
}

/** The ConfigError that parsing these lines must throw. */
export function rejection(lines: readonly string[], env: Env = {}): ConfigError {
  try {
    parse(lines, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected the config to be rejected');
}

export function problems(lines: readonly string[], env: Env = {}): string[] {
  return rejection(lines, env).problems;
}
