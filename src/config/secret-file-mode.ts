import { statSync } from 'node:fs';
import { parse } from 'yaml';
import { SECRET_KEYS } from './schema.js';

/**
 * A warning when the config file at `file` holds secrets (tokens, keys, password hashes, webhook
 * URLs…) and its group or others may read it: anyone with a shell on the machine could then
 * impersonate hosts or log in. Undefined when all is well, or on a system without Unix modes.
 */
export function secretsReadableWarning(file: string, shownAs: string, text: string): string | undefined {
  if (process.platform === 'win32') return undefined;
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch {
    return undefined;
  }
  const readers = [mode & 0o040 ? 'its group' : '', mode & 0o004 ? 'others' : ''].filter(Boolean);
  if (readers.length === 0) return undefined;
  const secrets = secretKeysWritten(text);
  if (secrets.length === 0) return undefined;
  return (
    `${shownAs}: holds secrets (${secrets.join(', ')}) and ${readers.join(' and ')} can read it ` +
    `(mode 0${mode.toString(8)}); run chmod 600 ${shownAs}`
  );
}

/** The secret keys the file itself sets (not the environment), with a value that is not empty. */
function secretKeysWritten(text: string): string[] {
  let data: unknown;
  try {
    data = parse(text);
  } catch {
    return [];
  }
  const found = SECRET_KEYS.filter((key) => hasValue(key.split('.').reduce<unknown>(child, data)));
  // A store URL is a secret when it carries a password (it may not: .pgpass, a socket's peer auth).
  const store = child(data, 'store');
  const url = typeof store === 'string' ? store : child(store, 'url');
  if (typeof url === 'string' && URL_WITH_PASSWORD.test(url))
    found.push(typeof store === 'string' ? 'store' : 'store.url');
  return found;
}

/** `scheme://user:password@…`: the user part holds a colon. */
const URL_WITH_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^/@]*@/i;

function child(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

function hasValue(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return false;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}
