import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpError } from './errors.js';

/** Checks `Authorization: Bearer <api_token>` for a write call. */
export function requireBearer(header: string | undefined, apiToken: string | null): void {
  if (apiToken === null) throw new HttpError(403, 'write calls are disabled: set api_token in the config');
  const token = bearerToken(header);
  if (token === undefined) throw new HttpError(401, 'this call needs "Authorization: Bearer <api_token>"');
  if (!sameSecret(token, apiToken)) throw new HttpError(401, 'wrong api token');
}

/** The token of an `Authorization: Bearer <token>` header; undefined for any other header or none. */
export function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
}

/** Compares digests, in constant time, so neither a secret nor its length leaks through timing. */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
