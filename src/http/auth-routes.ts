import { getConnInfo } from '@hono/node-server/conninfo';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { CheckQueue } from '../auth/check-queue.js';
import { clientKey } from '../auth/login-limiter.js';
import { verifyPassword } from '../auth/passwords.js';
import type { Access } from './access.js';
import { sessionId } from './access.js';
import { HttpError } from './errors.js';

const WRONG_LOGIN = 'wrong user name or password';
const LOGIN_FIELDS = ['user', 'password'];
const MAX_LOGIN_BYTES = 4096;
/**
 * Logins waiting out the delay that failures for their user name impose. The wait holds no
 * thread, only a timer and a connection, but a flood from many addresses must not pile them up.
 */
const MAX_DELAYED_LOGINS = 64;
const BUSY = 'too many logins at once; try again in a second';

/** `/api/session`, `/api/login`, `/api/logout`: open to everyone, whatever `read_access` says. */
export function authRoutes(access: Access): Hono {
  const app = new Hono();
  // One scrypt at a time, 16 waiting: each check holds 32 MiB and a thread of the pool that file
  // reads and zlib share, so a flood of logins can slow only other logins, never the dashboard.
  const checks = new CheckQueue({ concurrency: 1, maxWaiting: 16 });
  let delayedLogins = 0;
  /** Client addresses (an IPv6 /64 as one) with a login under way. */
  const addressesChecking = new Set<string>();

  app.get('/api/session', async (c) => {
    const session = await access.session(c.req.header('cookie'));
    return c.json(
      {
        user: session?.user ?? null,
        role: session?.role ?? null,
        csrf: session?.csrf ?? null,
        read_access: access.config.read_access,
        // Without users there is nothing to log in as: the dashboard then offers no login.
        logins: Object.keys(access.config.auth_users).length > 0,
      },
      200,
      { 'Cache-Control': 'no-store' },
    );
  });

  app.post(
    '/api/login',
    bodyLimit({
      maxSize: MAX_LOGIN_BYTES,
      onError: (c) => c.json({ error: `a login body is at most ${MAX_LOGIN_BYTES} bytes` }, 413),
    }),
    async (c) => {
      const users = access.config.auth_users;
      if (Object.keys(users).length === 0) {
        throw new HttpError(409, 'logins are off: no auth_users in the config (see `hbd passwd`)');
      }
      const { user, password } = await loginBody(c);
      const address = clientAddress(c);
      // A locked-out attempt is not checked at all: a correct guess must not be told apart from a wrong one.
      const lockedMs = access.limiter.lockedForMs(address);
      if (lockedMs > 0) {
        const seconds = Math.ceil(lockedMs / 1000);
        return c.json({ error: `too many failed logins; try again in ${seconds} s` }, 429, {
          'Retry-After': String(seconds),
        });
      }
      // One login at a time per address: attempts sent together would all pass the lockout test
      // above before the first failure is counted.
      const client = clientKey(address);
      if (addressesChecking.has(client)) {
        return c.json({ error: 'a login from this address is under way; try again in a second' }, 429, {
          'Retry-After': '1',
        });
      }
      const delayMs = access.limiter.delayForMs(user);
      if (delayMs > 0 && delayedLogins >= MAX_DELAYED_LOGINS) return busy(c);
      const entry = Object.hasOwn(users, user) ? users[user] : undefined;
      addressesChecking.add(client);
      let matches: boolean | undefined;
      try {
        if (delayMs > 0) {
          delayedLogins++;
          await sleep(delayMs).finally(() => delayedLogins--);
        }
        matches = await checks.tryRun(() => verifyPassword(password, entry?.password));
      } finally {
        addressesChecking.delete(client);
      }
      if (matches === undefined) return busy(c);
      // A reload during the check may have removed the user or changed the password meanwhile.
      const current = access.config.auth_users;
      const now = Object.hasOwn(current, user) ? current[user] : undefined;
      if (!matches || !entry || now?.password !== entry.password) {
        access.limiter.failed(address, user);
        throw new HttpError(401, WRONG_LOGIN);
      }
      access.limiter.succeeded(user);
      // A fresh id at every login, so an id planted in the browser beforehand is worth nothing.
      await access.sessions.end(sessionId(c.req.header('cookie')));
      const { id, session } = await access.sessions.create(user, now.role, now.password);
      return c.json({ user, role: session.role, csrf: session.csrf }, 200, {
        'Set-Cookie': access.sessionCookie(id),
        'Cache-Control': 'no-store',
      });
    },
  );

  app.post('/api/logout', async (c) => {
    await access.sessions.end(sessionId(c.req.header('cookie')));
    return c.json({ ok: true }, 200, { 'Set-Cookie': access.clearedCookie() });
  });

  return app;
}

function busy(c: Context): Response {
  return c.json({ error: BUSY }, 503, { 'Retry-After': '1' });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function loginBody(c: Context): Promise<{ user: string; password: string }> {
  // A form on another site cannot send this type without the browser asking hbd first (CORS),
  // which hbd never allows: nobody can be logged in to hbd from someone else's page.
  if (!/^application\/json\s*(;|$)/i.test(c.req.header('content-type') ?? '')) {
    throw new HttpError(415, 'expected content-type: application/json');
  }
  let body: unknown;
  try {
    body = JSON.parse(await c.req.text());
  } catch (error) {
    throw new HttpError(400, `expected a JSON body: ${(error as Error).message}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'expected a JSON object such as {"user": "alice", "password": "…"}');
  }
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).find((key) => !LOGIN_FIELDS.includes(key));
  if (unknown !== undefined) {
    throw new HttpError(400, `unknown field "${unknown}": expected ${LOGIN_FIELDS.join(', ')}`);
  }
  if (typeof fields.user !== 'string' || fields.user.length === 0 || fields.user.length > 200) {
    throw new HttpError(400, 'user: expected a user name');
  }
  if (typeof fields.password !== 'string' || fields.password.length === 0) {
    throw new HttpError(400, 'password: expected a string');
  }
  return { user: fields.user.toLowerCase(), password: fields.password };
}

function clientAddress(c: Context): string {
  return getConnInfo(c).remote.address ?? 'unknown';
}
