import type { Role } from '../model/role.js';

/** Lower-case only, so a name is spelt one way in the config, at login and by the login limiter. */
export const USER_NAME = /^[a-z0-9._-]{1,64}$/;
export const USER_NAME_RULE = '1 to 64 lower-case letters, digits, ".", "_" or "-"';

/** One entry of `auth_users`, as the config holds it. */
export interface AuthUser {
  /** The hash `hbd passwd` printed. */
  password: string;
  role: Role;
}

export type AuthUsers = Readonly<Record<string, AuthUser>>;
