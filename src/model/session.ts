import type { Role } from './role.js';

/**
 * A logged-in session as the store keeps it. The id itself is never stored: `key` is a digest of
 * it, so nothing read from the store works as a cookie.
 */
export interface SessionRecord {
  key: string;
  user: string;
  role: Role;
  /** What a write call must echo in `X-CSRF-Token`: a cross-site page can send the cookie, not this. */
  csrf: string;
  /** A digest of the password hash the login was checked against: a new password ends the session. */
  credential: string;
  /** Wall times, ms. */
  created: number;
  lastSeen: number;
}
