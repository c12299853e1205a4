import { createHash, randomBytes } from 'node:crypto';
import type { Role } from '../model/role.js';
import type { SessionRecord } from '../model/session.js';
import type { SessionStore } from '../store/store.js';
import type { AuthUsers } from './users.js';

/** A live session, as the HTTP layer sees it. */
export type Session = Readonly<Omit<SessionRecord, 'key'>>;

export interface SessionsOptions {
  /** Where sessions are kept, so that a restart logs nobody out. */
  store: SessionStore;
  /** ms since the epoch. */
  now: () => number;
  /**
   * The users of the config as they are now: a session whose user is gone, or has another role
   * or password, ends at its next use, also when that changed while hbd was not running.
   */
  users?: () => AuthUsers;
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
 * How stale a session's stored `lastSeen` may be. Every API call looks its session up, and the
 * dashboard calls several times a second: writing `lastSeen` each time would make every read a
 * write transaction, queued with the heartbeats' commits. So use is written at most once a
 * minute per session, and a session can end up to a minute before it has been idle for `idleMs`.
 */
export const TOUCH_EVERY_MS = 60_000;

/**
 * Logged-in sessions, kept in the store: a restart logs nobody out. The id exists only in the
 * client's cookie; the store has a digest of it (`key`), and a digest of the password hash the
 * login was checked against (`credential`), so nothing read from the store works as a cookie or
 * can be guessed at offline. Bounded by `maxPerUser` times the number of configured users.
 */
export class Sessions {
  readonly idleMs: number;
  readonly maxAgeMs: number;
  readonly #store: SessionStore;
  readonly #now: () => number;
  readonly #users: (() => AuthUsers) | undefined;
  readonly #maxPerUser: number;

  constructor(options: SessionsOptions) {
    this.#store = options.store;
    this.#now = options.now;
    this.#users = options.users;
    this.idleMs = options.idleMs ?? 12 * HOUR_MS;
    this.maxAgeMs = options.maxAgeMs ?? 7 * 24 * HOUR_MS;
    this.#maxPerUser = options.maxPerUser ?? 20;
  }

  /** How many sessions are stored, expired or not. */
  async count(): Promise<number> {
    return (await this.#store.list()).length;
  }

  /** Starts a session; the id goes to the client only, as its cookie. `credential` is the password hash. */
  async create(user: string, role: Role, credential: string): Promise<{ id: string; session: Session }> {
    const now = this.#now();
    const all = await this.#store.list();
    const expired = all.filter((session) => this.#expired(session, now));
    const own = all.filter((session) => session.user === user && !this.#expired(session, now));
    const oldest = own.slice(0, Math.max(0, own.length - this.#maxPerUser + 1));
    const ended = [...expired, ...oldest].map((session) => session.key);
    if (ended.length > 0) await this.#store.remove(ended);
    const id = randomBytes(ID_BYTES).toString('base64url');
    const record: SessionRecord = {
      key: digest(id),
      user,
      role,
      csrf: randomBytes(ID_BYTES).toString('base64url'),
      credential: digest(credential),
      created: now,
      lastSeen: now,
    };
    await this.#store.add(record);
    return { id, session: sessionOf(record) };
  }

  /** The live session with this id, marked as used now; undefined when there is none or it ended. */
  async get(id: string | undefined): Promise<Session | undefined> {
    if (!id) return undefined;
    const key = digest(id);
    const record = await this.#store.get(key);
    if (!record) return undefined;
    const now = this.#now();
    if (this.#expired(record, now) || !this.#stillAllowed(record)) {
      await this.#store.remove([key]);
      return undefined;
    }
    if (now - record.lastSeen >= TOUCH_EVERY_MS) {
      await this.#store.touch(key, now);
      record.lastSeen = now;
    }
    return sessionOf(record);
  }

  /** Logout. */
  async end(id: string | undefined): Promise<boolean> {
    return id ? (await this.#store.remove([digest(id)])) > 0 : false;
  }

  /**
   * After a config change: ends the sessions of users who are gone, or whose role or password
   * changed, so that taking a right away takes effect at once. Returns how many ended.
   */
  async keepOnly(users: AuthUsers): Promise<number> {
    const ended = (await this.#store.list())
      .filter((session) => !allowedBy(users, session))
      .map((session) => session.key);
    return ended.length > 0 ? this.#store.remove(ended) : 0;
  }

  #stillAllowed(session: SessionRecord): boolean {
    return this.#users === undefined || allowedBy(this.#users(), session);
  }

  #expired(session: SessionRecord, now: number): boolean {
    return now - session.lastSeen >= this.idleMs || now - session.created >= this.maxAgeMs;
  }
}

function allowedBy(users: AuthUsers, session: SessionRecord): boolean {
  const user = Object.hasOwn(users, session.user) ? users[session.user] : undefined;
  return user?.role === session.role && digest(user.password) === session.credential;
}

function sessionOf(record: SessionRecord): Session {
  const { key: _key, ...session } = record;
  return session;
}

/** SHA-256: the inputs are 32 random bytes or a scrypt hash, so no stretching is needed. */
function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}
