import { z } from 'zod';
import { nonNegativeSeconds, positive } from '../lib/schema-leaves.js';
import { normalizeHostName } from '../protocol/hostname.js';
import { MIN_PING_KEY_CHARS, MIN_PUSH_TOKEN_CHARS } from '../push/tokens.js';

/** RFC 3986's unreserved characters: a token travels as one URL path segment, unescaped. */
const URL_SAFE = /^[A-Za-z0-9._~-]+$/;

const TOKEN =
  `expected a token of at least ${MIN_PUSH_TOKEN_CHARS} letters, digits, "-", "_", "." or "~" ` +
  '(a Healthchecks.io check UUID or an Uptime Kuma push token works as is)';
const PING_KEY = `expected null or a ping key of at least ${MIN_PING_KEY_CHARS} letters, digits, "-", "_", "." or "~"`;
const ENTRY = 'expected a map with token, and optionally interval and grace';

const pushEntry = z.object(
  {
    token: z.string(TOKEN).min(MIN_PUSH_TOKEN_CHARS, TOKEN).regex(URL_SAFE, TOKEN),
    interval: positive('seconds').optional(),
    grace: nonNegativeSeconds().optional(),
  },
  ENTRY,
);

export type PushEntry = z.output<typeof pushEntry>;

/**
 * `push:` — jobs that report over HTTP instead of UDP, by host name (see docs/push.md). Names
 * follow the heartbeat rules and are lower-cased; a token may belong to one entry only, since it
 * alone says which host a ping is for.
 */
export function pushSection() {
  return z
    .record(z.string(), pushEntry, 'expected a map of host name to {token, interval, grace}')
    .superRefine((entries, ctx) => {
      const spelling = new Map<string, string>();
      const tokenOwner = new Map<string, string>();
      for (const [name, entry] of Object.entries(entries)) {
        const host = normalizeHostName(name);
        if (host === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [name],
            message:
              'not a valid host name: 1-253 characters, dot-separated labels of letters, digits and "-"',
          });
          continue;
        }
        const other = spelling.get(host);
        if (other !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: [name],
            message: `same host as "${other}" (host names ignore case)`,
          });
        else spelling.set(host, name);
        const owner = tokenOwner.get(entry.token);
        if (owner !== undefined)
          ctx.addIssue({ code: 'custom', path: [name, 'token'], message: `the same token as "${owner}"` });
        else tokenOwner.set(entry.token, name);
      }
    })
    .transform((entries) =>
      Object.fromEntries(Object.entries(entries).map(([name, entry]) => [name.toLowerCase(), entry])),
    )
    .default({});
}

/** `push_ping_key:` — enables `/ping/{ping_key}/{host name}`, the way a project's ping key does. */
export function pushPingKey() {
  return z
    .string(PING_KEY)
    .min(MIN_PING_KEY_CHARS, PING_KEY)
    .regex(URL_SAFE, PING_KEY)
    .nullable()
    .default(null);
}

/**
 * The ping key and a token share the first path segment of a ping URL, so they must differ.
 * A cross-key rule: it runs once both keys are valid.
 */
export function pingKeyIsNoToken(
  config: { push: Record<string, PushEntry>; push_ping_key: string | null },
  ctx: z.core.$RefinementCtx,
): void {
  const key = config.push_ping_key;
  if (key === null) return;
  for (const [host, entry] of Object.entries(config.push)) {
    if (entry.token === key)
      ctx.addIssue({
        code: 'custom',
        path: ['push_ping_key'],
        message: `is also the token of push host "${host}"; they share the URL, so they must differ`,
      });
  }
}
