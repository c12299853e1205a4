import { z } from 'zod';
import { PASSWORD_HASH } from '../auth/passwords.js';
import { USER_NAME, USER_NAME_RULE } from '../auth/users.js';
import { DNS_METHODS, DNS_SECRET_KEYS, dnsUpdaterKeys } from '../dns/updaters/index.js';
import { MAX_PATTERN_LENGTH } from '../lib/host-pattern.js';
import { parseNetwork } from '../lib/networks.js';
import {
  flag,
  intAtLeast,
  intRange,
  nonEmptyString,
  nonNegativeSeconds,
  oneOf,
  positive,
} from '../lib/schema-leaves.js';
import { ROLES } from '../model/role.js';
import { CHANNEL_SECRET_KEYS, PUSHSRV_CHOICES } from '../notify/channels/index.js';
import { clusterSection } from './cluster-schema.js';
import { metricsSection } from './metrics-schema.js';
import { notifySection } from './notify-schema.js';
import { defaultPickfile, type Env, type PathContext, resolvePath } from './paths.js';
import { pingKeyIsNoToken, pushPingKey, pushSection } from './push-schema.js';
import { storeSection } from './store-schema.js';

/** What the schema needs from outside: where relative paths start, and what the defaults derive from. */
export interface SchemaContext extends PathContext {
  env: Env;
}

const MIB = 1024 * 1024;

/** The keys whose values are credentials: error messages describe them but never echo them. */
export const SECRET_KEYS: readonly string[] = [
  'api_token',
  'read_token',
  // Hashes, but a leaked one can be guessed at offline.
  'auth_users',
  'keys',
  // The DNS updaters' own (dns/updaters/): a TSIG secret, say.
  ...DNS_SECRET_KEYS.map((key) => `dns.${key}`),
  // Each channel names its own (src/notify/channels/), so a new channel cannot forget this list.
  ...CHANNEL_SECRET_KEYS.map((key) => `notify.${key}`),
  // A push token or the ping key in a URL is all it takes to report for a host.
  'push',
  'push_ping_key',
];

function filePath(ctx: PathContext, what = 'a file path') {
  return nonEmptyString(what).transform((path) => resolvePath(path, ctx));
}

function optionalFilePath(ctx: PathContext) {
  return filePath(ctx, 'null or a file path').nullable().default(null);
}

/** Host names are case-insensitive and heartbeats carry them lower-cased, so map keys are lower-cased too. */
function lowerCaseKeys<T>(entries: Record<string, T>, ctx: z.core.$RefinementCtx): Record<string, T> {
  const firstSpelling = new Map<string, string>();
  for (const name of Object.keys(entries)) {
    const lower = name.toLowerCase();
    const other = firstSpelling.get(lower);
    if (other === undefined) firstSpelling.set(lower, name);
    else
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: `same host as "${other}" (host names ignore case)`,
      });
  }
  return Object.fromEntries(Object.entries(entries).map(([name, value]) => [name.toLowerCase(), value]));
}

const SECRET = 'expected a non-empty secret string';
const secret = z.string(SECRET).min(1, SECRET);
const KEY_ENTRY = 'expected a secret, or a map of key id to secret';
/** A single secret, or several by key id so a host can move to a new key while the old one still verifies. */
const keyEntry = z.union([secret, z.record(z.string(), secret, KEY_ENTRY)], KEY_ENTRY);

const HOST_OVERRIDE = 'expected a map with interval and/or grace';
const hostOverride = z.object(
  { interval: positive('seconds').optional(), grace: nonNegativeSeconds().optional() },
  HOST_OVERRIDE,
);

const API_TOKEN = 'expected null or a token of at least 16 characters';

const AUTH_USER = 'expected a map with password and role';
const authUser = z.object(
  {
    password: z
      .string('expected a hash made by `hbd passwd`')
      .regex(PASSWORD_HASH, 'expected a hash made by `hbd passwd`, not the password itself'),
    role: oneOf(ROLES),
  },
  AUTH_USER,
);

/** Logins for the dashboard and the API; a bad name is reported at its own key, like a host's. */
function authUsers(entries: Record<string, z.output<typeof authUser>>, ctx: z.core.$RefinementCtx) {
  if (typeof entries !== 'object' || entries === null) return;
  for (const name of Object.keys(entries)) {
    if (!USER_NAME.test(name)) {
      ctx.addIssue({ code: 'custom', path: [name], message: `expected a user name of ${USER_NAME_RULE}` });
    }
  }
}

/** Dynamic DNS: how hosts' A/AAAA records are published (see docs/dns.md). */
function dns(ctx: PathContext) {
  const error = 'expected a map of dynamic DNS settings';
  return z
    .object(
      {
        // The first updater of the list is the default.
        method: oneOf(DNS_METHODS).default(DNS_METHODS[0]),
        // Paths an updater reads are resolved like the config's other paths.
        ...dnsUpdaterKeys(optionalFilePath(ctx)),
        zone: z.hostname('expected null or a zone name').nullable().default(null),
        ttl: intRange(0, 2 ** 31 - 1).default(60),
        on_down: oneOf(['keep', 'delete']).default('keep'),
        allow_unsigned: flag.default(false),
        allow_private: flag.default(false),
        refresh: positive('seconds').default(86_400),
        retry_max: positive('seconds').default(30),
      },
      error,
    )
    .prefault({});
}

/**
 * What outsiders can make hbd spend: every resource that unsigned traffic or an unauthenticated
 * client can grow has its bound here (docs/security.md explains each and how to size it).
 */
function limits() {
  const error = 'expected a map of limits';
  return z
    .object(
      {
        // Hosts in all; a heartbeat that would create one more is dropped as `limit`, unless
        // it is signed with a configured key (the operator made that host, not an outsider).
        max_hosts: intAtLeast(1).default(100_000),
        // New hosts a minute from heartbeats not signed with a configured key.
        new_hosts_per_minute: intAtLeast(0).default(1_000),
        // UTF-8 bytes a host stores of msg + extra fields (keys and values).
        host_bytes: intRange(256, 65_536).default(4_096),
        // Stored events per host, kept continuously: one host cannot push out the others' history.
        events_per_host: intAtLeast(10).default(10_000),
        // Status changes of one host within status_flap_window seconds before the rest are
        // stored as one flapping episode.
        status_flap_threshold: intAtLeast(2).default(6),
        status_flap_window: positive('seconds').default(600),
        // Snapshots (/ws connections and full /api/hosts reads) a minute per client address.
        snapshots_per_minute: intAtLeast(1).default(30),
        // A live-feed or API client this far behind, in bytes or seconds, is cut off.
        client_buffer_bytes: intAtLeast(65_536).default(8 * MIB),
        client_stall_seconds: positive('seconds').default(30),
      },
      error,
    )
    .prefault({});
}

/** Networks whose unsigned heartbeats are accepted: loopback, RFC 1918, link-local and ULA. */
export const DEFAULT_UNSIGNED_NETWORKS = [
  '127.0.0.0/8',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '169.254.0.0/16',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
] as const;

/** One entry of `unsigned_networks`; the problem names the entry, since a list's index is easy to miscount. */
const unsignedNetwork = z.string('expected a network such as 10.0.0.0/8').superRefine((entry, ctx) => {
  const network = parseNetwork(entry);
  if (typeof network === 'string') ctx.addIssue({ code: 'custom', message: `"${entry}": ${network}` });
});

function journal(ctx: PathContext) {
  const error = 'expected null, a file path, or a map with path, max_bytes and keep';
  const form = z.object(
    { path: filePath(ctx), max_bytes: intAtLeast(4096).default(64 * MIB), keep: intAtLeast(0).default(5) },
    error,
  );
  // The short form `journal: PATH` means the full form with default limits.
  return z.preprocess((value) => (typeof value === 'string' ? { path: value } : value), form.nullable());
}

/**
 * The configuration schema: parsing a YAML document's data with it validates every key, applies
 * defaults, resolves paths and normalises short forms. A factory because the pickfile default and
 * relative paths depend on the environment, home and config file location.
 */
export function configSchema(ctx: SchemaContext) {
  return z
    .object({
      hb_host: nonEmptyString('a bind address').default('::'),
      hb_port: intRange(0, 65535).default(50003),
      hbd_host: nonEmptyString('a bind address').default('127.0.0.1'),
      hbd_port: intRange(0, 65535).default(50004),
      pickfile: filePath(ctx).default(defaultPickfile(ctx.env, ctx.home)),
      store: storeSection(ctx),
      cluster: clusterSection(),
      logfile: optionalFilePath(ctx),
      logfmt: oneOf(['text', 'json']).default('text'),
      log_level: oneOf(['debug', 'info', 'warn', 'error']).default('info'),
      interval: positive('seconds').default(60),
      grace: nonNegativeSeconds().default(30),
      auth: oneOf(['off', 'optional', 'required']).default('optional'),
      keys: z
        .record(z.string(), keyEntry, 'expected a map of host name to secret')
        .transform(lowerCaseKeys)
        .default({}),
      max_skew: positive('seconds').default(300),
      // From elsewhere a heartbeat must be signed: the internet cannot create or impersonate hosts.
      unsigned_networks: z
        .array(unsignedNetwork, 'expected a list of networks such as 10.0.0.0/8')
        .default([...DEFAULT_UNSIGNED_NETWORKS]),
      limits: limits(),
      api_token: z.string(API_TOKEN).min(16, API_TOKEN).nullable().default(null),
      read_token: z.string(API_TOKEN).min(16, API_TOKEN).nullable().default(null),
      auth_users: z
        .record(z.string(), authUser, 'expected a map of user name to {password, role}')
        // Also when a password is wrong, so that a bad name is reported with it.
        .superRefine(authUsers, { when: () => true })
        .default({}),
      read_access: oneOf(['public', 'login']).default('public'),
      tls_cert: optionalFilePath(ctx),
      tls_key: optionalFilePath(ctx),
      hosts: z
        .record(z.string(), hostOverride, 'expected a map of host name or glob to {interval, grace}')
        .superRefine((entries, ctx) => {
          // One bound for every glob hbd matches: the longest host name.
          for (const name of Object.keys(entries)) {
            if (name.length > MAX_PATTERN_LENGTH)
              ctx.addIssue({
                code: 'custom',
                path: [name],
                message: `a host name or glob is at most ${MAX_PATTERN_LENGTH} characters, got ${name.length}`,
              });
          }
        })
        .transform(lowerCaseKeys)
        .default({}),
      journal: journal(ctx).default(null),
      history: z
        .object(
          { days: positive('days').default(30), max_events: intAtLeast(100).default(1_000_000) },
          'expected a map with days and max_events',
        )
        .prefault({}),
      // Node's setRecvBufferSize takes an int32; 0 leaves the OS default.
      udp_rcvbuf: intRange(0, 2 ** 31 - 1).default(8 * MIB),
      metrics: metricsSection(),
      pushsrv: oneOf(PUSHSRV_CHOICES).default('all'),
      dyndomains: z
        .array(z.hostname('expected a domain name'), 'expected a list of domain names')
        .default([]),
      nsupdate_bin: nonEmptyString('a program path').default('/usr/bin/nsupdate'),
      dns: dns(ctx),
      notify: notifySection(),
      push: pushSection(),
      push_ping_key: pushPingKey(),
    })
    .superRefine(pingKeyIsNoToken)
    .superRefine(
      (config, ctx) => {
        const { api_token: write, read_token: read } = config;
        if (typeof read !== 'string' || read !== write) return;
        ctx.addIssue({
          code: 'custom',
          path: ['read_token'],
          message: 'must differ from api_token: the read token is for those who may only read',
        });
      },
      { when: () => true },
    )
    .superRefine(
      (config, ctx) => {
        // With `when` below, invalid values get here too; those already have their own problem.
        const settled = (value: unknown) => value === null || (typeof value === 'string' && value !== '');
        const { tls_cert: cert, tls_key: key } = config;
        if (!settled(cert) || !settled(key) || (cert === null) === (key === null)) return;
        const [set, unset] = cert === null ? ['tls_key', 'tls_cert'] : ['tls_cert', 'tls_key'];
        ctx.addIssue({
          code: 'custom',
          path: [set],
          message: `${unset} is not set; set both tls_cert and tls_key, or neither`,
        });
      },
      // Run even when other keys are invalid, so this problem is reported with the rest.
      { when: () => true },
    )
    .superRefine(
      (config, ctx) => {
        const users = config.auth_users as unknown;
        if (config.read_access !== 'login' || typeof users !== 'object' || users === null) return;
        if (Object.keys(users).length > 0) return;
        ctx.addIssue({
          code: 'custom',
          path: ['read_access'],
          message: 'login needs a user under auth_users (made with `hbd passwd`), or read_access: public',
        });
      },
      { when: () => true },
    );
}

export type Config = z.output<ReturnType<typeof configSchema>>;
export type HostOverride = Config['hosts'][string];
export type JournalConfig = NonNullable<Config['journal']>;
