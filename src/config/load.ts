import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isMap, LineCounter, parseDocument, type YAMLError } from 'yaml';
import { applyEnvOverrides, readEnvOverrides } from './env.js';
import { ConfigError, describeValue, formatKeyPath, formatProblem, issueProblems } from './errors.js';
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
}

export interface ParseOptions {
  /** How messages name the file (`hb.yaml:7: …`); null when there is no file. */
  sourceName: string | null;
  /** Directory relative paths are taken from. */
  baseDir: string;
  env: Env;
  home: string;
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
}: {
  path: string | null;
  env: Env;
  home: string;
  cwd: string;
}): LoadResult {
  if (path === null) return parseConfig('', { sourceName: null, baseDir: cwd, env, home });
  const file = resolve(cwd, path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`${path}: cannot read the config file: ${(error as Error).message}`]);
  }
  const parsed = parseConfig(text, { sourceName: path, baseDir: dirname(file), env, home });
  const readable = secretsReadableWarning(file, path, text);
  const warnings = readable === undefined ? parsed.warnings : [...parsed.warnings, readable];
  return { ...parsed, warnings, source: file };
}

/** Validates config text with the environment's overrides; throws ConfigError listing every problem. */
export function parseConfig(text: string, { sourceName, baseDir, env, home }: ParseOptions): LoadResult {
  const name = sourceName ?? '(no config file)';
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (error: YAMLError) => {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    return `${name}:${line}:${col}: ${error.message}`;
  };
  const warnings = doc.warnings.map(at);
  if (doc.errors.length > 0) throw new ConfigError(doc.errors.map(at), warnings);
  if (doc.contents !== null && !isMap(doc.contents)) {
    const where = nodeWhere(name, doc.contents, lineCounter);
    throw new ConfigError(
      [`${where}: expected a map of settings, got ${describeValue(doc.toJS())}`],
      warnings,
    );
  }

  const schema = configSchema({ baseDir, env, home });
  for (const unknown of unknownKeysInDocument(doc.contents, schema)) {
    const hint = unknown.suggestion ? `; did you mean "${formatKeyPath(unknown.suggestion)}"?` : '';
    const where = nodeWhere(name, unknown.node, lineCounter);
    warnings.push(`${where}: unknown key "${formatKeyPath(unknown.path)}" (ignored)${hint}`);
  }
  const { overrides, warnings: envWarnings } = readEnvOverrides(env, schema);
  warnings.push(...envWarnings);
  const data: Record<string, unknown> = doc.toJS() ?? {};
  const problems = applyEnvOverrides(data, overrides);

  const locate = makeLocate(doc, lineCounter, name, overrides);
  const result = schema.safeParse(data, { reportInput: true });
  if (!result.success) problems.push(...issueProblems(result.error.issues, locate));
  if (problems.length > 0 || !result.success) throw new ConfigError(problems, warnings);

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
  return { config: deepFreeze(result.data), warnings, source: sourceName };
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
