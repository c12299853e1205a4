import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** scrypt's cost: N = 2^log2N, block size r, parallelism p. */
export interface ScryptCost {
  log2N: number;
  r: number;
  p: number;
}

/** 32 MiB and some 50–100 ms per check: cheap for one login, dear for a guessing attack. */
export const DEFAULT_COST: ScryptCost = { log2N: 15, r: 8, p: 1 };
export const MIN_PASSWORD_LENGTH = 10;
const SALT_BYTES = 16;
const KEY_BYTES = 32;

/**
 * `scrypt$<log2N>$<r>$<p>$<salt>$<key>`, base64 without padding. The cost travels with the hash,
 * so a later hbd can raise it for new hashes and still verify the old ones. The bounds keep a
 * typo in the config from asking for gigabytes at every login.
 */
export const PASSWORD_HASH =
  /^scrypt\$(1[5-9]|20)\$([1-9]|1[0-6])\$([1-4])\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$/;

export async function hashPassword(password: string, cost: ScryptCost = DEFAULT_COST): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, cost, KEY_BYTES);
  return `scrypt$${cost.log2N}$${cost.r}$${cost.p}$${base64(salt)}$${base64(key)}`;
}

/**
 * Whether `password` matches `stored`. For a user who does not exist, pass `undefined`: the same
 * work is done against a hash nobody knows the password of, so the answer takes as long as for a
 * real user and timing does not tell which user names exist.
 */
export async function verifyPassword(password: string, stored: string | undefined): Promise<boolean> {
  const parsed = (stored !== undefined && parseHash(stored)) || UNMATCHABLE;
  const key = await derive(password, parsed.salt, parsed.cost, parsed.key.length);
  return timingSafeEqual(key, parsed.key) && parsed !== UNMATCHABLE;
}

interface ParsedHash {
  cost: ScryptCost;
  salt: Buffer;
  key: Buffer;
}

function parseHash(text: string): ParsedHash | undefined {
  const match = PASSWORD_HASH.exec(text);
  if (!match) return undefined;
  const [, log2N, r, p, salt, key] = match;
  return {
    cost: { log2N: Number(log2N), r: Number(r), p: Number(p) },
    salt: Buffer.from(salt!, 'base64'),
    key: Buffer.from(key!, 'base64'),
  };
}

/** Random bytes in place of a key: no password derives to them. */
const UNMATCHABLE: ParsedHash = {
  cost: DEFAULT_COST,
  salt: randomBytes(SALT_BYTES),
  key: randomBytes(KEY_BYTES),
};

function derive(password: string, salt: Buffer, cost: ScryptCost, length: number): Promise<Buffer> {
  const N = 2 ** cost.log2N;
  // The same password typed on another keyboard may arrive composed differently (é as one code
  // point or two); NFC makes both the same bytes.
  const bytes = Buffer.from(password.normalize('NFC'), 'utf8');
  return new Promise((resolve, reject) =>
    scrypt(
      bytes,
      salt,
      length,
      // Node's default limit, 32 MiB, is exactly what N = 2^15, r = 8 needs, and scrypt needs a little more.
      { N, r: cost.r, p: cost.p, maxmem: 256 * N * cost.r },
      (error, key) => (error ? reject(error) : resolve(key)),
    ),
  );
}

function base64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}
