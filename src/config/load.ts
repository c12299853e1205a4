import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isMap, LineCounter, parseDocument, type YAMLError } from 'yaml';
import { applyEnvOverrides, readEnvOverrides } from './env.js';
import {
  ConfigError,
  describeValue,
  formatKeyPath,
  formatProblem,
  inFileOrder,
  issueProblems,
  type Locate,
} from './errors.js';
import { makeLocate, nodeWhere } from './origin.js';
import type { Env } from './paths.js';
import { plainHttpLoginsWarning } from './plain-http-logins.js';
import { type Config, configSchema } from './schema.js';
import { secretsReadableWarning } from './secret-file-mode.js';
import { unknownKeysInDocument } from './unknown-keys.js';

export { ConfigError };

export interface LoadResult {
  /** Deep-frozen: a reload builds a new one rather than changing this one. */
  config: Config;
  warnings: string[];
  /** The file the config came from; null when built-in defaults (and the environment) were used. */
  source: string | null;
  /** How problems name the file (`hb.yaml`, as given), to put later ones in line order too. */
  sourceName: string;
  /** Where a key's value came from: for a problem found after loading (a TLS file that cannot be read). */
  locate: Locate;
}

export interface ParseOptions {
  /** How messages name the file (`hb.yaml:7: …`); null when there is no file. */
  sourceName: string | null;
  /** Directory relative paths are taken from. */
  baseDir: string;
  env: Env;
  home: string;
  /** Unknown keys in the file are problems rather than warnings (`hbd check-config --strict`). */
  strict?: boolean;
}

const WEAK_SECRET_CHARS = 16;

/** The config file to use: `-c PATH`, else `$HBD_CONFIG`, else `~/.hb.yaml` if it exists, else none. */
export function locateConfigFile({
  cliPath,
  env,
  home,
}: {
  cliPath?: string | null | undefined;
  env: Env;
  home: string;
}): string | null {
  // A file named explicitly must exist (loadConfig says so if not); the dotfile is optional.
  if (cliPath) return cliPath;
  if (env.HBD_CONFIG) return env.HBD_CONFIG;
  const dotfile = join(home, '.hb.yaml');
  return existsSync(dotfile) ? dotfile : null;
}

/** Reads and validates the config file at `path` (relative to `cwd`), or the defaults when `path` is null. */
export function loadConfig({
  path,
  env,
  home,
  cwd,
  strict,
}: {
  path: string | null;
  env: Env;
  home: string;
  cwd: string;
  strict?: boolean;
}): LoadResult {
  if (path === null) return parseConfig('', { sourceName: null, baseDir: cwd, env, home, strict });
  const file = resolve(cwd, path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`${path}: cannot read the config file: ${(error as Error).message}`]);
  }
  const parsed = parseConfig(text, { sourceName: path, baseDir: dirname(file), env, home, strict });
  const readable = secretsReadableWarning(file, path, text);
  const warnings = readable === undefined ? parsed.warnings : [...parsed.warnings, readable];
  return { ...parsed, warnings, source: file };
}

/**
 * Validates config text with the environment's overrides; throws ConfigError listing every problem,
 * in the order of the file's lines and each once.
 */
export function parseConfig(
  text: string,
  { sourceName, baseDir, env, home, strict = false }: ParseOptions,
): LoadResult {
  const name = sourceName ?? '(no config file)';
  const ordered = (messages: readonly string[]) => inFileOrder(messages, name);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (error: YAMLError) => {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    return `${name}:${line}:${col}: ${error.message}`;
  };
  const warnings = doc.warnings.map(at);
  if (doc.errors.length > 0) throw new ConfigError(ordered(doc.errors.map(at)), ordered(warnings));
  if (doc.contents !== null && !isMap(doc.contents)) {
    const where = nodeWhere(name, doc.contents, lineCounter);
    throw new ConfigError(
      [`${where}: expected a map of settings, got ${describeValue(doc.toJS())}`],
      warnings,
    );
  }

  const schema = configSchema({ baseDir, env, home });
  const unknownKeys: string[] = [];
  for (const unknown of unknownKeysInDocument(doc.contents, schema)) {
    const hint = unknown.suggestion ? `; did you mean "${formatKeyPath(unknown.suggestion)}"?` : '';
    const where = nodeWhere(name, unknown.node, lineCounter);
    unknownKeys.push(
      `${where}: unknown key "${formatKeyPath(unknown.path)}"${strict ? '' : ' (ignored)'}${hint}`,
    );
  }
  if (!strict) warnings.push(...unknownKeys);
  const { overrides, warnings: envWarnings } = readEnvOverrides(env, schema);
  warnings.push(...envWarnings);
  const data: Record<string, unknown> = doc.toJS() ?? {};
  const problems = [...(strict ? unknownKeys : []), ...applyEnvOverrides(data, overrides)];

  const locate = makeLocate(doc, lineCounter, name, overrides);
  const result = schema.safeParse(data, { reportInput: true });
  if (!result.success) problems.push(...issueProblems(result.error.issues, locate));
  if (problems.length > 0 || !result.success) throw new ConfigError(ordered(problems), ordered(warnings));

  for (const path of weakSecretPaths((data.keys ?? {}) as ValidKeys)) {
    warnings.push(
      formatProblem(
        locate(path),
        `secret is shorter than ${WEAK_SECRET_CHARS} characters; use a long random one`,
      ),
    );
  }
  const plainHttp = plainHttpLoginsWarning(result.data);
  if (plainHttp !== undefined) warnings.push(plainHttp);
  return {
    config: deepFreeze(result.data),
    warnings: ordered(warnings),
    source: sourceName,
    sourceName: name,
    locate,
  };
}

/** `keys` as written, once the schema has accepted it. */
type ValidKeys = Record<string, string | Record<string, string>>;

/** Paths of secrets short enough to guess. Taken from the data as written, to locate them by their own names. */
function weakSecretPaths(keys: ValidKeys): string[][] {
  const weak = (secret: string) => secret.length < WEAK_SECRET_CHARS;
  return Object.entries(keys).flatMap(([host, entry]) =>
    typeof entry === 'string'
      ? weak(entry)
        ? [['keys', host]]
        : []
      : Object.entries(entry)
          .filter(([, secret]) => weak(secret))
          .map(([id]) => ['keys', host, id]),
  );
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
