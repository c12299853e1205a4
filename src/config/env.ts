import { isCollection, parseDocument } from 'yaml';
import type { z } from 'zod';
import { formatKeyPath } from './errors.js';
import type { Env } from './paths.js';
import { unknownStep } from './unknown-keys.js';

const PREFIX = 'HBD_';
/** `HBD_` variables that are not settings. */
const NOT_SETTINGS = new Set(['HBD_CONFIG']);

/** One `HBD_…` variable: the config path it sets and its value. */
export interface EnvOverride {
  variable: string;
  path: string[];
  value: unknown;
}

/** `HBD_JOURNAL__MAX_BYTES` for `journal.max_bytes`. */
function envVariableName(path: readonly string[]): string {
  return PREFIX + path.join('__').toUpperCase();
}

/**
 * The settings the environment overrides: `HBD_<KEY>` sets a top-level key and `__` goes one map
 * deeper, so names are lower-cased and only names made of letters, digits and `_` can be reached
 * (`HBD_HOSTS__WEB1__INTERVAL`, but no host called `web-1.lab`). Variables naming no setting are
 * reported and skipped.
 */
export function readEnvOverrides(
  env: Env,
  schema: z.core.$ZodType,
): { overrides: EnvOverride[]; warnings: string[] } {
  const overrides: EnvOverride[] = [];
  const warnings: string[] = [];
  // Sorted so that a map (`HBD_JOURNAL`) is applied before keys inside it (`HBD_JOURNAL__KEEP`).
  for (const variable of Object.keys(env).sort()) {
    const text = env[variable];
    if (!variable.startsWith(PREFIX) || NOT_SETTINGS.has(variable) || text === undefined) continue;
    const path = variable.slice(PREFIX.length).toLowerCase().split('__');
    const unknown = unknownStep(schema, path);
    if (unknown === null) {
      overrides.push({ variable, path, value: parseEnvValue(text) });
      continue;
    }
    const hint = unknown.suggestion ? `; did you mean $${envVariableName(unknown.suggestion)}?` : '';
    warnings.push(`$${variable}: unknown setting "${formatKeyPath(unknown.path)}" (ignored)${hint}`);
  }
  return { overrides, warnings };
}

/**
 * A value is a YAML scalar or flow collection (`6000` is a number, `[a, b]` a list, empty is
 * null). Text that is not valid as such (`@x`, `a: b`) is kept as the literal string; quote a
 * value to force a string (`'"0123"'`).
 */
function parseEnvValue(text: string): unknown {
  const doc = parseDocument(text);
  if (doc.errors.length > 0 || (isCollection(doc.contents) && !doc.contents.flow)) return text;
  return doc.toJS();
}

/** Puts each override into the file's data, creating maps on the way; returns the problems. */
export function applyEnvOverrides(
  data: Record<string, unknown>,
  overrides: readonly EnvOverride[],
): string[] {
  const problems: string[] = [];
  for (const { variable, path, value } of overrides) {
    const blocked = setIn(data, path.slice(0, -1), path[path.length - 1] ?? '', value);
    if (blocked !== null) {
      problems.push(
        `$${variable}: cannot set ${formatKeyPath(path)}: ${formatKeyPath(blocked)} is not a map`,
      );
    }
  }
  return problems;
}

/** Sets `parents.key`, creating missing maps; returns the path of a non-map in the way, if any. */
function setIn(
  data: Record<string, unknown>,
  parents: readonly string[],
  key: string,
  value: unknown,
): string[] | null {
  let map = data;
  for (const [depth, parent] of parents.entries()) {
    // hasOwn: a name such as "constructor" must not reach Object.prototype's member.
    const next = (Object.hasOwn(map, parent) ? map[parent] : undefined) ?? {};
    if (!isPlainMap(next)) return parents.slice(0, depth + 1);
    map[parent] = next;
    map = next;
  }
  map[key] = value;
  return null;
}

function isPlainMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
