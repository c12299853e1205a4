import type { z } from 'zod';
import { SECRET_KEYS } from './schema.js';
import { STORE_SECRET_KEYS } from './store-schema.js';
import { closest } from './suggest.js';

/** A config that cannot be used. `problems` lists every problem found, not just the first. */
export class ConfigError extends Error {
  readonly problems: string[];
  /** Warnings found on the way; a misspelt key is often why a value seems to be ignored. */
  readonly warnings: string[];

  constructor(problems: string[], warnings: string[] = []) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
    this.warnings = warnings;
  }
}

/** Where a value came from: `hb.yaml:7` and its key path, or `$HBD_X` and the path below what it sets. */
export interface Origin {
  where: string;
  keyPath: readonly PropertyKey[];
}

export type Locate = (path: readonly PropertyKey[]) => Origin;

export function formatKeyPath(path: readonly PropertyKey[]): string {
  return path
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`))
    .join('');
}

/** `hb.yaml:7: hb_port: expected …` */
export function formatProblem({ where, keyPath }: Origin, message: string): string {
  const key = formatKeyPath(keyPath);
  return `${where}: ${key === '' ? '' : `${key}: `}${message}`;
}

/** A value as a user would recognise it in a message; secrets are described, never shown. */
export function describeValue(value: unknown, secret = false): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (secret) return typeof value === 'string' ? `a ${value.length}-character string` : `a ${typeof value}`;
  if (typeof value !== 'string') return String(value);
  const MAX = 60;
  return JSON.stringify(value.length > MAX ? `${value.slice(0, MAX - 1)}…` : value);
}

/** One line per schema issue: where it is, what was expected and, unless it is a cross-key rule, what was found. */
export function issueProblems(issues: readonly z.core.$ZodIssue[], locate: Locate): string[] {
  return issues.flatMap(unwrapUnion).map((issue) => {
    const path = issue.path.join('.');
    // Whole segments: `push` holds secrets, `pushsrv` does not.
    const secret = [...SECRET_KEYS, ...STORE_SECRET_KEYS].some(
      (key) => path === key || path.startsWith(`${key}.`),
    );
    const found = issue.code === 'custom' ? '' : `, got ${describeValue(issue.input, secret)}`;
    // A near miss of a secret would say something about the secret.
    const hint = secret ? '' : valueSuggestion(issue);
    return formatProblem(locate(issue.path), issue.message + found + hint);
  });
}

/** `; did you mean "json"?` for a misspelt choice (`logfmt: jsn`), as for a misspelt key. */
function valueSuggestion(issue: z.core.$ZodIssue): string {
  if (issue.code !== 'invalid_value' || typeof issue.input !== 'string') return '';
  const choices = issue.values.filter((value): value is string => typeof value === 'string');
  const near = closest(issue.input, choices);
  return near === undefined ? '' : `; did you mean "${near}"?`;
}

/**
 * Problems (or warnings) in the order of the file's lines, each once: what a user fixes from the
 * top down. Those that name no line of `sourceName` (`$HBD_…` variables, checks of the whole
 * file) keep their order, after the rest.
 */
export function inFileOrder(messages: readonly string[], sourceName: string): string[] {
  const prefix = `${sourceName}:`;
  const lineOf = (message: string) => {
    if (!message.startsWith(prefix)) return Number.POSITIVE_INFINITY;
    const line = /^(\d+)[:\s]/.exec(message.slice(prefix.length));
    return line ? Number(line[1]) : Number.POSITIVE_INFINITY;
  };
  const unique = [...new Set(messages)];
  // Array.prototype.sort is stable: messages on one line keep the order they were found in.
  return unique
    .map((message) => ({ message, line: lineOf(message) }))
    .sort((a, b) => (a.line === b.line ? 0 : a.line - b.line))
    .map(({ message }) => message);
}

/**
 * zod reports a failed union as one issue. When the value has the type of exactly one branch
 * (a map of key ids under `keys`), that branch's own issues say precisely what is wrong.
 */
function unwrapUnion(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== 'invalid_union') return [issue];
  const fitting = issue.errors.filter(
    (branch) => !branch.some((inner) => inner.code === 'invalid_type' && inner.path.length === 0),
  );
  const [only] = fitting;
  if (fitting.length !== 1 || only === undefined) return [issue];
  return only.flatMap((inner) => unwrapUnion({ ...inner, path: [...issue.path, ...inner.path] }));
}
