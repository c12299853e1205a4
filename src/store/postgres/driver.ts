import { z } from 'zod';
import { flag, intRange, nonEmptyString, positive } from '../../lib/schema-leaves.js';
import { defineStoreDriver } from '../driver.js';
import { schemeOf, urlWithoutPassword } from '../url.js';

const URL_EXPECTED = 'expected a URL such as postgresql://user:password@host:5432/database';
const POSTGRES_SCHEMES = ['postgresql', 'postgres'];

function isPostgresUrl(text: string): boolean {
  const scheme = schemeOf(text);
  return scheme !== undefined && POSTGRES_SCHEMES.includes(scheme) && urlWithoutPassword(text) !== undefined;
}

/** libpq's TLS parameters in a URL; with `tls:` as well, it would be unclear which one counts. */
function urlSetsTls(text: string): boolean {
  try {
    return [...new URL(text).searchParams.keys()].some((key) => key.startsWith('ssl'));
  } catch {
    return false;
  }
}

export const postgresOptions = z
  .strictObject({
    /** postgresql://user:password@host:port/database, with libpq's parameters (`?sslmode=…`). */
    url: z.string(URL_EXPECTED).refine(isPostgresUrl, URL_EXPECTED),
    /** Most connections hbd opens (the cluster's listener takes one more). */
    pool_size: intRange(1, 1000).default(10),
    /**
     * Seconds a statement may run before PostgreSQL cancels it (hbd itself gives up a second
     * later), and a transaction may sit idle before PostgreSQL ends it.
     */
    statement_timeout: positive('seconds').default(5),
    /** Seconds to wait for a connection. */
    connect_timeout: positive('seconds').default(5),
    /** TLS to the server, from files; or libpq's `sslmode` and friends in the URL. */
    tls: z
      .strictObject({
        /** The CA certificate(s) the server's certificate must chain to; else the system's. */
        ca: nonEmptyString('a file path').optional(),
        /** A client certificate and its key, for certificate authentication. */
        cert: nonEmptyString('a file path').optional(),
        key: nonEmptyString('a file path').optional(),
        /** False accepts any server certificate: only for a test. */
        reject_unauthorized: flag.default(true),
      })
      .refine((tls) => (tls.cert === undefined) === (tls.key === undefined), {
        message: 'expected both cert and key, or neither',
      })
      .optional(),
  })
  .refine((options) => options.tls === undefined || !urlSetsTls(options.url), {
    message: 'set TLS either with tls: or with ssl… parameters in the URL, not both',
    path: ['tls'],
  });

export type PostgresOptions = z.output<typeof postgresOptions>;

/**
 * `store: postgresql://user:password@host/db`, or `store: { driver: postgresql, url: …, … }`:
 * a PostgreSQL database that several hbd nodes can share (a cluster).
 */
export const postgresDriver = defineStoreDriver({
  name: 'postgresql',
  schema: postgresOptions,
  files: ['tls.ca', 'tls.cert', 'tls.key'],
  secretKeys: ['url'],
  urlSchemes: POSTGRES_SCHEMES,
  async open(options, context) {
    const { openPostgresStore } = await import('./store.js');
    return openPostgresStore(options, context);
  },
  async transfer(options, context) {
    const { openPostgresTransfer } = await import('./transfer.js');
    return openPostgresTransfer(options, context);
  },
});
