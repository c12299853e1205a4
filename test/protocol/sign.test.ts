import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isSignatureHex, signText, verifySignature } from '../../src/protocol/sign.js';
import { VECTOR_SECRET, VECTOR_SIG, VECTOR_SIGNED_TEXT } from './test-vector.js';

describe('signatures', () => {
  it('signs the test vector text to its sig (lowercase hex HMAC-SHA256)', () => {
    expect(signText(VECTOR_SIGNED_TEXT, VECTOR_SECRET)).toBe(VECTOR_SIG);
  });

  it('hashes the text and the secret as UTF-8', () => {
    // From: printf '%s' 'msg=héllo ✓' | openssl dgst -sha256 -hmac 'clé'
    expect(signText('msg=héllo ✓', 'clé')).toBe(
      '38e35c76fa9e2b7229bcd82ddd2789a10ba411f3a079c1d054e810b2194f6ef4',
    );
  });

  it('verifies a good signature', () => {
    expect(verifySignature({ hex: VECTOR_SIG, signedText: VECTOR_SIGNED_TEXT }, VECTOR_SECRET)).toBe(true);
  });

  it('refuses another secret, another text, or another signature', () => {
    const good = { hex: VECTOR_SIG, signedText: VECTOR_SIGNED_TEXT };
    expect(verifySignature(good, `${VECTOR_SECRET} `)).toBe(false);
    expect(verifySignature({ ...good, signedText: `${VECTOR_SIGNED_TEXT} ` }, VECTOR_SECRET)).toBe(false);
    expect(verifySignature({ ...good, hex: `${VECTOR_SIG.slice(0, -1)}a` }, VECTOR_SECRET)).toBe(false);
  });

  it('refuses a signature that is not 64 lowercase hex characters, without throwing', () => {
    for (const hex of [
      VECTOR_SIG.toUpperCase(),
      VECTOR_SIG.slice(2),
      `${VECTOR_SIG}00`,
      '',
      'zz'.repeat(32),
    ]) {
      expect(verifySignature({ hex, signedText: VECTOR_SIGNED_TEXT }, VECTOR_SECRET)).toBe(false);
    }
  });

  it('never signs or verifies with an empty secret (anyone could forge it)', () => {
    expect(() => signText('host=web1', '')).toThrow(/empty secret/);
    const forged = createHmac('sha256', '').update('host=web1').digest('hex');
    expect(verifySignature({ hex: forged, signedText: 'host=web1' }, '')).toBe(false);
  });

  it('tells the shape of a signature', () => {
    expect(isSignatureHex(VECTOR_SIG)).toBe(true);
    expect(isSignatureHex(VECTOR_SIG.toUpperCase())).toBe(false);
    expect(isSignatureHex(VECTOR_SIG.slice(1))).toBe(false);
  });
});
