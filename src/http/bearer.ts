import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpError } from './errors.js';

/**
 * Checks `Authorization: Bearer <api_token>` for a write call. Digests are compared,
 * in constant time, so neither the token nor its length leaks through timing.
 */
export function requireBearer(header: string | undefined, apiToken: string | null): void {
  if (apiToken === null) throw new HttpError(403, 'write calls are disabled: set api_token in the config');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match) throw new HttpError(401, 'this call needs "Authorization: Bearer <api_token>"');
  if (!timingSafeEqual(digest(match[1]!), digest(apiToken))) throw new HttpError(401, 'wrong api token');
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
