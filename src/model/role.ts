/** What a login may do: `viewer` reads, `admin` also writes. */
export const ROLES = ['viewer', 'admin'] as const;
export type Role = (typeof ROLES)[number];
