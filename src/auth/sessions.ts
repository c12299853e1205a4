import { createHash, randomBytes } from 'node:crypto';
import type { AuthUsers } from './users.js';
import type { Role } from '../model/role.js';

export interface Session {
  readonly user: string;
  readonly role: Role;
  /** What a write call must echo in `X-CSRF-Token`: a cross-site page can send the cookie, not this. */
  readonly csrf: string;
  /** The password hash the login was checked against: a new password ends the session. */
  readonly credential: string;
  readonly created: number;
  lastSeen: number;
}

export interface SessionStoreOptions {
  /** ms since the epoch. */
  now: () => number;
  /** A session unused this long ends. */
  idleMs?: number;
  /** A session ends this long after login, however busy. */
  maxAgeMs?: number;
  /** A user's oldest session ends when they log in once more than this. */
  maxPerUser?: number;
}

const HOUR_MS = 3_600_000;
const ID_BYTES = 32;

/**
 * Logged-in sessions, in memory: a restart logs everyone out, which is the safe way round.
 * Bounded by `maxPerUser` times the number of configured users.
 */
export class SessionStore {
  readonly idleMs: number;
  readonly maxAgeMs: number;
  readonly #now: () => number;
  readonly #maxPerUser: number;
  /** Keyed by a digest of the id: lookup timing says nothing about real ids, and nothing kept here works as a cookie. In login order. */
  readonly #sessions = new Map<string, Session>();

  constructor(options: SessionStoreOptions) {
    this.#now = options.now;
    this.idleMs = options.idleMs ?? 12 * HOUR_MS;
    this.maxAgeMs = options.maxAgeMs ?? 7 * 24 * HOUR_MS;
    this.#maxPerUser = options.maxPerUser ?? 20;
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Starts a session; the id goes to the client only, as its cookie. */
  create(user: string, role: Role, credential: string): { id: string; session: Session } {
    const now = this.#now();
    this.#dropExpired(now);
    const own = [...this.#sessions].filter(([, session]) => session.user === user);
    for (const [key] of own.slice(0, Math.max(0, own.length - this.#maxPerUser + 1))) {
      this.#sessions.delete(key);
    }
    const id = randomBytes(ID_BYTES).toString('base64url');
    const session: Session = {
      user,
      role,
      csrf: randomBytes(ID_BYTES).toString('base64url'),
      credential,
      created: now,
      lastSeen: now,
    };
    this.#sessions.set(keyOf(id), session);
    return { id, session };
  }

  /** The live session with this id, marked as used now; undefined when there is none or it expired. */
  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const key = keyOf(id);
    const session = this.#sessions.get(key);
    if (!session) return undefined;
    const now = this.#now();
    if (this.#expired(session, now)) {
      this.#sessions.delete(key);
      return undefined;
    }
    session.lastSeen = now;
    return session;
  }

  /** Logout. */
  end(id: string | undefined): boolean {
    return id ? this.#sessions.delete(keyOf(id)) : false;
  }

  /**
   * After a config change: ends the sessions of users who are gone, or whose role or password
   * changed, so that taking a right away takes effect at once. Returns how many ended.
   */
  keepOnly(users: AuthUsers): number {
    let ended = 0;
    for (const [key, session] of this.#sessions) {
      const user = Object.hasOwn(users, session.user) ? users[session.user] : undefined;
      if (user?.role === session.role && user.password === session.credential) continue;
      this.#sessions.delete(key);
      ended++;
    }
    return ended;
  }

  #expired(session: Session, now: number): boolean {
    return now - session.lastSeen >= this.idleMs || now - session.created >= this.maxAgeMs;
  }

  #dropExpired(now: number): void {
    for (const [key, session] of this.#sessions) {
      if (this.#expired(session, now)) this.#sessions.delete(key);
    }
  }
}

function keyOf(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}
