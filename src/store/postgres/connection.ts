import { readFileSync } from 'node:fs';
import pg from 'pg';
import { urlWithoutPassword } from '../url.js';
import type { PostgresOptions } from './driver.js';

const INT8_OID = 20;

/**
 * bigint columns (ids, counters) as numbers, not strings: hbd's ids and counts stay far below
 * 2^53. Per connection, not pg's global parsers, which other users of `pg` may rely on.
 */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID && format !== 'binary'
      ? (text: string) => Number(text)
      : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

/** How hbd reaches the database: the settings for the pool and for a client of its own. */
export interface Connection {
  /** The URL without its password, for logs, /healthz and errors. */
  location: string;
  client: pg.ClientConfig;
  pool: pg.PoolConfig;
}

export function connectionOf(options: PostgresOptions): Connection {
  const statementMs = Math.round(options.statement_timeout * 1000);
  const client: pg.ClientConfig = {
    connectionString: options.url,
    application_name: 'hbd',
    // The server cancels a statement past this; the client gives up a second later, so a
    // server that stopped answering never holds hbd up.
    statement_timeout: statementMs,
    query_timeout: statementMs + 1000,
    // A transaction left idle that long belongs to a process that stopped (a paused leader):
    // the server ends it, and the lease row it held for share is free for the next leader.
    idle_in_transaction_session_timeout: statementMs,
    connectionTimeoutMillis: Math.round(options.connect_timeout * 1000),
    keepAlive: true,
    types: TYPES,
  };
  if (options.tls) {
    const read = (what: string, path: string | undefined) => {
      if (path === undefined) return undefined;
      try {
        return readFileSync(path, 'utf8');
      } catch (error) {
        throw new Error(`store.tls.${what}: cannot read ${path}: ${(error as Error).message}`);
      }
    };
    const ssl: NonNullable<Exclude<pg.ClientConfig['ssl'], boolean>> = {
      rejectUnauthorized: options.tls.reject_unauthorized,
    };
    const ca = read('ca', options.tls.ca);
    const cert = read('cert', options.tls.cert);
    const key = read('key', options.tls.key);
    if (ca !== undefined) ssl.ca = ca;
    if (cert !== undefined) ssl.cert = cert;
    if (key !== undefined) ssl.key = key;
    client.ssl = ssl;
  }
  return {
    location: urlWithoutPassword(options.url) ?? 'postgresql://?',
    client,
    pool: { ...client, max: options.pool_size },
  };
}

/** What to do about the SQLSTATE codes a store that cannot be opened meets most. */
const ADVICE: Readonly<Record<string, string>> = {
  // invalid_password, invalid_authorization_specification
  '28P01': 'check the user and password in store.url (or $HBD_STORE)',
  '28000': 'check the user in store.url, and that pg_hba.conf lets it in from this host',
  // invalid_catalog_name
  '3D000': 'create it (createdb -O <user> <database>) or fix its name in store.url',
  // insufficient_privilege
  '42501':
    "make the user the database's owner (ALTER DATABASE <database> OWNER TO <user>): hbd creates its tables",
};

/**
 * One line for a store that cannot be opened: where (no password), what went wrong and what to
 * do. The stack would only hide the advice.
 */
export function openFailure(location: string, options: PostgresOptions, error: unknown): Error {
  const code = (error as { code?: unknown } | null)?.code;
  const message = (error as Error).message ?? String(error);
  let advice: string;
  if (typeof code === 'string' && ADVICE[code]) advice = `${message}: ${ADVICE[code]}`;
  else if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'EAI_AGAIN')
    advice = `${message}: is PostgreSQL running there, and listening on that address and port?`;
  else if (/timeout/i.test(message))
    advice = `no answer within ${options.connect_timeout} s (store.connect_timeout): is the server reachable from here?`;
  else advice = message;
  const failure = new Error(`postgresql store ${location}: cannot open: ${advice}`, { cause: error });
  failure.stack = `Error: ${failure.message}`;
  return failure;
}
