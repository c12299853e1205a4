import { expect } from 'vitest';
import { ConfigError, type LoadResult, parseConfig } from '../../src/config/load.js';
import type { Env } from '../../src/config/paths.js';
import { CHANNEL_NAMES } from '../../src/notify/channels/index.js';

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

/** What `notify:` is when the config does not mention it: every rule on, no channel. */
export const NOTIFY_DEFAULTS = {
  group_wait: 10,
  group_by: null,
  repeat: 0,
  restart_grace: 60,
  announce_new_problems: true,
  deadline: 86_400,
  retry_min: 5,
  retry_max: 300,
  rate_limit: 20,
  concurrency: 2,
  isolation: { share: 0.5, min_hosts: 10 },
  flapping: { window: 600, threshold: 6, settle: 2 },
  channel_alert_after: 300,
  // No channel is configured: every one in the list is null.
  ...Object.fromEntries(CHANNEL_NAMES.map((name) => [name, null])),
};
