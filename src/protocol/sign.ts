/**
 * hb/1 signatures: lowercase hex HMAC-SHA256 of the signed text's UTF-8 bytes,
 * keyed with the UTF-8 bytes of the shared secret.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Signature } from './types.js';

const SIGNATURE_HEX_CHARS = 64;

/** Whether `hex` has the shape of a signature: 64 lowercase hex characters. */
export function isSignatureHex(hex: string): boolean {
  if (hex.length !== SIGNATURE_HEX_CHARS) return false;
  for (let i = 0; i < SIGNATURE_HEX_CHARS; i++) {
    const code = hex.charCodeAt(i);
    const isDigit = code >= 0x30 && code <= 0x39;
    const isLowerHexLetter = code >= 0x61 && code <= 0x66;
    if (!isDigit && !isLowerHexLetter) return false;
  }
  return true;
}

function hmac(text: string, secret: string) {
  // A string key and `update(text, 'utf8')` are both hashed as UTF-8, as hb/1 requires.
  return createHmac('sha256', secret).update(text, 'utf8');
}

export function signText(text: string, secret: string): string {
  // An empty key would make every signature forgeable; refuse rather than sign with it.
  if (secret.length === 0) throw new Error('cannot sign with an empty secret');
  return hmac(text, secret).digest('hex');
}

/** Whether `signature` was made with `secret`, compared in constant time. */
export function verifySignature(signature: Signature, secret: string): boolean {
  if (secret.length === 0 || !isSignatureHex(signature.hex)) return false;
  const expected = hmac(signature.signedText, secret).digest();
  return timingSafeEqual(expected, Buffer.from(signature.hex, 'hex'));
}
