import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import type { Context, MiddlewareHandler } from 'hono';
import { parse, serialize } from 'hono/utils/cookie';
import { LoginLimiter } from '../auth/login-limiter.js';
import { type Session, Sessions } from '../auth/sessions.js';
import type { Config } from '../config/schema.js';
import { isPushPath } from '../push/protocols/index.js';
import type { SessionStore } from '../store/store.js';
import { bearerToken, requireBearer, sameSecret } from './bearer.js';
import { HttpError } from './errors.js';
import { HSTS } from './tls-options.js';

export const SESSION_COOKIE = 'hbd_session';
export const CSRF_HEADER = 'X-CSRF-Token';

export type AccessConfig = Pick<
  Config,
  'api_token' | 'read_token' | 'auth_users' | 'read_access' | 'tls_cert'
>;

export interface AccessOptions {
  /** Read on every request, so that a reload applies at once. */
  config: () => AccessConfig;
  /** ms since the epoch. */
  now: () => number;
  /** Where sessions are kept (the store's `sessions`), so that a restart logs nobody out. */
  sessions: SessionStore;
}

const LOGIN_TO_READ =
  'this call needs a login (POST /api/login) or "Authorization: Bearer <token>" with api_token or read_token';

/**
 * Who may call what. Reading is open, or under `read_access: login` needs a session or a
 * bearer token (`api_token` or `read_token`); writing needs `api_token`, or an admin session
 * that also sends its CSRF token. The config is read on every check, so a reload applies to the next request.
 */
export class Access {
  readonly sessions: Sessions;
  readonly limiter: LoginLimiter;
  readonly #config: () => AccessConfig;

  constructor(options: AccessOptions) {
    this.#config = options.config;
    this.sessions = new Sessions({
      store: options.sessions,
      now: options.now,
      users: () => this.#config().auth_users,
    });
    this.limiter = new LoginLimiter({ now: options.now });
  }

  get config(): AccessConfig {
    return this.#config();
  }

  /** The live session the request's cookie names, if any. */
  session(cookieHeader: string | undefined): Promise<Session | undefined> {
    return this.sessions.get(sessionId(cookieHeader));
  }

  /**
   * For `/api/*` and `/metrics`. The login calls stay open, and so do push endpoints: those carry
   * their own secret in the URL and must work from a script that has no session.
   */
  readonly requireReader: MiddlewareHandler = async (c, next) => {
    if (!isOpenPath(c.req.path)) {
      const refusal = await this.#readRefusal(c.req.header('authorization'), c.req.header('cookie'));
      if (refusal) throw refusal;
    }
    await next();
  };

  /**
   * For every call that changes something: rejects with the HttpError that explains what is
   * missing. Await it: a call left floating would let the write through. (It was the synchronous
   * `requireWriter`; the new name makes every caller that does not await it yet fail to compile.)
   */
  async authorizeWrite(c: Context): Promise<void> {
    const config = this.#config();
    const authorization = c.req.header('authorization');
    const token = bearerToken(authorization);
    if (token !== undefined && config.read_token !== null && sameSecret(token, config.read_token)) {
      throw new HttpError(403, 'the read token cannot write: this call needs api_token or an admin login');
    }
    // A bearer token decides alone; a browser never adds one by itself, so it needs no CSRF token.
    if (token === undefined) {
      const session = await this.session(c.req.header('cookie'));
      if (session) {
        if (session.role !== 'admin') throw new HttpError(403, 'this call needs an admin');
        const csrf = c.req.header(CSRF_HEADER);
        if (csrf === undefined || !sameSecret(csrf, session.csrf)) {
          throw new HttpError(403, `this call needs the ${CSRF_HEADER} header: the csrf of GET /api/session`);
        }
        return;
      }
      if (Object.keys(config.auth_users).length > 0) {
        throw new HttpError(
          401,
          config.api_token === null
            ? 'this call needs an admin login (POST /api/login)'
            : 'this call needs an admin login (POST /api/login) or "Authorization: Bearer <api_token>"',
        );
      }
    }
    requireBearer(authorization, config.api_token);
  }

  /**
   * Why a `/ws` upgrade is refused, or undefined to accept it. A browser sends the cookie with a
   * WebSocket opened by any site, and the same-origin policy does not cover WebSockets, so a
   * foreign `Origin` is refused in every mode.
   */
  async upgradeRefusalOf(request: IncomingMessage): Promise<HttpError | undefined> {
    if (isForeignOrigin(request.headers.origin, request.headers.host)) {
      return new HttpError(403, 'WebSocket connections from another site are refused');
    }
    return this.#readRefusal(request.headers.authorization, request.headers.cookie);
  }

  /** The Set-Cookie value that starts a session. */
  sessionCookie(id: string): string {
    return serialize(SESSION_COOKIE, id, {
      ...this.#cookieFlags(),
      maxAge: Math.floor(this.sessions.maxAgeMs / 1000),
    });
  }

  /** The Set-Cookie value that makes the browser forget the session. */
  clearedCookie(): string {
    return serialize(SESSION_COOKIE, '', { ...this.#cookieFlags(), maxAge: 0 });
  }

  /** After a reload: users removed, or with a new role or password, are logged out. */
  async configChanged(): Promise<void> {
    await this.sessions.keepOnly(this.#config().auth_users);
  }

  async #readRefusal(
    authorization: string | undefined,
    cookie: string | undefined,
  ): Promise<HttpError | undefined> {
    const config = this.#config();
    if (config.read_access === 'public') return undefined;
    const token = bearerToken(authorization);
    if (token !== undefined) {
      const known = (secret: string | null) => secret !== null && sameSecret(token, secret);
      return known(config.api_token) || known(config.read_token)
        ? undefined
        : new HttpError(401, 'wrong token');
    }
    return (await this.session(cookie)) ? undefined : new HttpError(401, LOGIN_TO_READ);
  }

  #cookieFlags() {
    return {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
      // Over plain HTTP a Secure cookie would never come back; hbd serves one or the other.
      secure: this.#config().tls_cert !== null,
    } as const;
  }
}

export function sessionId(cookieHeader: string | undefined): string | undefined {
  return cookieHeader ? parse(cookieHeader, SESSION_COOKIE)[SESSION_COOKIE] : undefined;
}

function isOpenPath(path: string): boolean {
  // A push protocol's paths carry their own credential (push/protocols/index.ts).
  return path === '/api/session' || path === '/api/login' || path === '/api/logout' || isPushPath(path);
}

/** True when a browser says the page is from another site than this server. */
export function isForeignOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return false;
  try {
    const page = new URL(origin);
    // Read through the page's scheme, so that a default port written or left out compares equal.
    return host === undefined || page.host !== new URL(`${page.protocol}//${host}`).host;
  } catch {
    // "null" (a sandboxed page, a file) or garbage.
    return true;
  }
}

/** Answers an upgrade request that will not become a WebSocket, then closes the connection. */
export function refuseUpgrade(socket: Duplex, error: HttpError): void {
  const body = JSON.stringify({ error: error.message });
  // A client that hangs up first must not take hbd down with an unhandled 'error'.
  socket.on('error', () => socket.destroy());
  socket.once('finish', () => socket.destroy());
  // Like every other HTTPS answer, this one tells the browser to keep to HTTPS.
  const hsts = socket instanceof TLSSocket ? `Strict-Transport-Security: ${HSTS}\r\n` : '';
  socket.end(
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}\r\n` +
      hsts +
      'Connection: close\r\n' +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
