/**
 * Builds the configured DnsUpdater. The TSIG key comes from `dns.tsig_file` (a tsig-keygen file),
 * else from `dns.tsig_name` + `dns.tsig_secret` + `dns.tsig_algorithm`, else there is none and
 * updates go unsigned (fine for a server that takes unsigned updates from 127.0.0.1).
 * Every error is a plain Error whose message starts with the config key at fault.
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { createNsupdateUpdater } from './nsupdate.js';
import { createRfc2136Updater } from './rfc2136.js';
import { parseTsigKeys, pickTsigKey } from './tsig-key-file.js';
import type { DnsServer, DnsUpdater, TsigKey } from './update-types.js';
import { normalizeName } from './validate.js';

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

type UpdaterConfig = Pick<Config, 'dns' | 'nsupdate_bin'>;

export function createUpdater(config: UpdaterConfig): DnsUpdater {
  const { dns } = config;
  const server: DnsServer = { host: dns.server, port: dns.port };
  if (dns.tsig_file !== null) return withKeyFile(config, server, dns.tsig_file);

  if (dns.tsig_secret !== null && dns.tsig_name === null)
    throw new Error('dns.tsig_secret is set but dns.tsig_name is not: give both, or dns.tsig_file');
  if (dns.tsig_name !== null && dns.tsig_secret === null)
    throw new Error('dns.tsig_name is set but dns.tsig_secret is not: give both, or dns.tsig_file');
  let key: TsigKey | null = null;
  if (dns.tsig_name !== null && dns.tsig_secret !== null) {
    try {
      normalizeName(dns.tsig_name, 'key name');
    } catch (err) {
      throw new Error(`dns.tsig_name: ${(err as Error).message}`);
    }
    // Checked here so that no later message can quote the secret.
    if (!BASE64.test(dns.tsig_secret) || dns.tsig_secret.length % 4 !== 0)
      throw new Error('dns.tsig_secret: expected a base64 secret (as tsig-keygen prints it)');
    key = { name: dns.tsig_name, algorithm: dns.tsig_algorithm, secret: dns.tsig_secret };
  }
  return build(config, server, key, null);
}

function withKeyFile(config: UpdaterConfig, server: DnsServer, file: string): DnsUpdater {
  const { dns } = config;
  if (dns.tsig_secret !== null)
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
  let key: TsigKey;
  try {
    key = pickTsigKey(keys, file, dns.tsig_name ?? undefined);
  } catch (err) {
    throw new Error(`dns.tsig_name: ${(err as Error).message}`);
  }
  if (dns.method === 'nsupdate') {
    // nsupdate -k rejects a file with several keys ("'key' redefined") and then sends the update
    // unsigned, so insist on one; the secret itself stays in the file.
    if (keys.length > 1)
      throw new Error(
        `dns.tsig_file: ${file} holds ${keys.length} keys, but nsupdate reads only a file with exactly one`,
      );
    return build(config, server, null, file);
  }
  return build(config, server, key, null);
}

function build(
  config: UpdaterConfig,
  server: DnsServer,
  key: TsigKey | null,
  keyFile: string | null,
): DnsUpdater {
  try {
    if (config.dns.method === 'nsupdate')
      return createNsupdateUpdater({ binary: config.nsupdate_bin, server, key, keyFile });
    return createRfc2136Updater({ server, key });
  } catch (err) {
    // The port is checked by the schema and the key above: what is left is the server address.
    throw new Error(`dns.server: ${(err as Error).message}`);
  }
}
