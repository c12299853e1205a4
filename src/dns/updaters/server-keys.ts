import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { intRange, nonEmptyString, oneOf } from '../../lib/schema-leaves.js';
import { parseTsigKeys, pickTsigKey } from '../tsig-key-file.js';
import { type DnsServer, TSIG_ALGORITHMS, type TsigKey } from '../update-types.js';
import { normalizeName } from '../validate.js';

/**
 * The `dns:` keys every updater that talks to one primary server reads: where it is, and the
 * TSIG key. The key comes from `tsig_file` (a tsig-keygen file), else from `tsig_name` +
 * `tsig_secret` + `tsig_algorithm`, else there is none and updates go unsigned (fine for a
 * server that takes unsigned updates from 127.0.0.1).
 */
export const serverKeys = {
  server: nonEmptyString('the address of the primary server').default('127.0.0.1'),
  port: intRange(1, 65535).default(53),
  tsig_name: nonEmptyString('null or a key name').nullable().default(null),
  tsig_secret: nonEmptyString('null or a base64 secret').nullable().default(null),
  tsig_file: nonEmptyString('null or a file path').nullable().default(null),
  tsig_algorithm: oneOf(TSIG_ALGORITHMS).default('hmac-sha256'),
};

export type ServerKeyOptions = z.output<z.ZodObject<typeof serverKeys>>;

/** The TSIG key as given: none, by name and secret, or in a file (with every key the file holds). */
export type TsigSource =
  | { kind: 'none' }
  | { kind: 'inline'; key: TsigKey }
  | { kind: 'file'; path: string; key: TsigKey; keysInFile: number };

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export function serverOf(options: ServerKeyOptions): DnsServer {
  return { host: options.server, port: options.port };
}

/** Every error is a plain Error whose message starts with the config key at fault. */
export function tsigSourceOf(options: ServerKeyOptions): TsigSource {
  if (options.tsig_file !== null) return fromFile(options, options.tsig_file);
  if (options.tsig_secret !== null && options.tsig_name === null)
    throw new Error('dns.tsig_secret is set but dns.tsig_name is not: give both, or dns.tsig_file');
  if (options.tsig_name !== null && options.tsig_secret === null)
    throw new Error('dns.tsig_name is set but dns.tsig_secret is not: give both, or dns.tsig_file');
  if (options.tsig_name === null || options.tsig_secret === null) return { kind: 'none' };
  try {
    normalizeName(options.tsig_name, 'key name');
  } catch (err) {
    throw new Error(`dns.tsig_name: ${(err as Error).message}`);
  }
  // Checked here so that no later message can quote the secret.
  if (!BASE64.test(options.tsig_secret) || options.tsig_secret.length % 4 !== 0)
    throw new Error('dns.tsig_secret: expected a base64 secret (as tsig-keygen prints it)');
  return {
    kind: 'inline',
    key: { name: options.tsig_name, algorithm: options.tsig_algorithm, secret: options.tsig_secret },
  };
}

function fromFile(options: ServerKeyOptions, file: string): TsigSource {
  if (options.tsig_secret !== null)
    throw new Error('dns.tsig_file and dns.tsig_secret are both set: give the key one way only');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new Error(`dns.tsig_file: cannot read ${file} (${code})`);
  }
  let keys: TsigKey[];
  try {
    keys = parseTsigKeys(text, file);
  } catch (err) {
    throw new Error(`dns.tsig_file: ${(err as Error).message}`);
  }
  // dns.tsig_name, when given, picks the key out of the file; dns.tsig_algorithm is the file's.
  try {
    return {
      kind: 'file',
      path: file,
      key: pickTsigKey(keys, file, options.tsig_name ?? undefined),
      keysInFile: keys.length,
    };
  } catch (err) {
    throw new Error(`dns.tsig_name: ${(err as Error).message}`);
  }
}

/** Builds the updater, naming `dns.server` in what it throws: the port and key were checked before. */
export function withServerErrors<T>(build: () => T): T {
  try {
    return build();
  } catch (err) {
    throw new Error(`dns.server: ${(err as Error).message}`);
  }
}
