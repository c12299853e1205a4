import { describe, expect, it } from 'vitest';
import { Gatekeeper, type GatekeeperOptions, needsSignature } from '../../src/ingest/gatekeeper.js';
import { parseHeartbeat } from '../../src/protocol/decode.js';
import { signText } from '../../src/protocol/sign.js';
import type { Heartbeat } from '../../src/protocol/types.js';

const NOW = 1_764_080_000;
const WEB1 = 'secret-of-web1-0123456789';
const STAR = 'secret-of-everyone-else-01';

function heartbeat(text: string, secret?: string): Heartbeat {
  const datagram = secret ? `${text} sig=${signText(text, secret)}` : text;
  const parsed = parseHeartbeat(datagram);
  if (!parsed.ok) throw new Error(parsed.detail);
  return parsed.value;
}

const LOOPBACK = ['127.0.0.0/8', '::1/128'];

function admit(options: Partial<GatekeeperOptions>, hb: Heartbeat, lastTs?: number, source = '127.0.0.1') {
  const result = gatekeeperWith(options).admit(hb, lastTs, NOW, source);
  if (result.ok) return result.signed ? 'signed' : 'unsigned';
  // Kept apart from a heartbeat accepted as unsigned.
  return result.reason === 'unsigned' ? 'refused unsigned' : result.reason;
}

function gatekeeperWith(options: Partial<GatekeeperOptions>): Gatekeeper {
  return new Gatekeeper({ auth: 'optional', keys: {}, maxSkew: 300, unsignedNetworks: LOOPBACK, ...options });
}

describe('Gatekeeper: who may change state', () => {
  const keys = { web1: WEB1 };

  it('auth optional: an unsigned heartbeat from a host without a key is accepted as unsigned', () => {
    expect(admit({ keys }, heartbeat('host=web2'))).toBe('unsigned');
  });

  it('a host with its own key is accepted only signed, with that key', () => {
    expect(admit({ keys }, heartbeat('host=web1'))).toBe('refused unsigned');
    expect(admit({ keys }, heartbeat(`host=web1 ts=${NOW}`, WEB1))).toBe('signed');
    expect(admit({ keys }, heartbeat(`host=web1 ts=${NOW}`, STAR))).toBe('auth');
  });

  it('"*" gives every host without its own key a key', () => {
    const both = { web1: WEB1, '*': STAR };
    expect(admit({ keys: both }, heartbeat('host=web2'))).toBe('refused unsigned');
    expect(admit({ keys: both }, heartbeat(`host=web2 ts=${NOW}`, STAR))).toBe('signed');
    expect(admit({ keys: both }, heartbeat(`host=web2 ts=${NOW}`, WEB1))).toBe('auth');
  });

  it('auth required: unsigned heartbeats and hosts without a key are refused', () => {
    expect(admit({ auth: 'required' }, heartbeat('host=web2'))).toBe('refused unsigned');
    expect(admit({ auth: 'required' }, heartbeat(`host=web2 ts=${NOW}`, WEB1))).toBe('auth');
  });

  it('auth optional: a signed heartbeat hbd has no key for counts as unsigned', () => {
    expect(admit({}, heartbeat(`host=web2 ts=${NOW}`, WEB1))).toBe('unsigned');
  });

  it('auth off: signatures are ignored, even bad ones', () => {
    expect(admit({ auth: 'off', keys }, heartbeat(`host=web1 ts=${NOW}`, 'wrong'))).toBe('unsigned');
    expect(admit({ auth: 'off', keys }, heartbeat('host=web1'))).toBe('unsigned');
  });

  it('a signed heartbeat must carry ts (the decoder already insists), within the allowed skew', () => {
    expect(parseHeartbeat(`host=web1 sig=${signText('host=web1', WEB1)}`)).toMatchObject({
      ok: false,
      reason: 'field',
    });
    expect(admit({ keys }, heartbeat(`host=web1 ts=${NOW - 300}`, WEB1))).toBe('signed');
    expect(admit({ keys }, heartbeat(`host=web1 ts=${NOW + 300.001}`, WEB1))).toBe('skew');
    expect(admit({ keys, maxSkew: 5 }, heartbeat(`host=web1 ts=${NOW - 6}`, WEB1))).toBe('skew');
  });

  it('a signed heartbeat must be strictly newer than the last accepted one', () => {
    const hb = heartbeat(`host=web1 ts=${NOW}.5`, WEB1);
    expect(admit({ keys }, hb, NOW + 0.4)).toBe('signed');
    expect(admit({ keys }, hb, NOW + 0.5)).toBe('replay');
    expect(admit({ keys }, hb, NOW + 1)).toBe('replay');
  });

  it('several keys per host: key= picks one; without it any of them verifies', () => {
    const rotating = { web1: { k1: 'old-secret-0123456789', k2: 'new-secret-0123456789' } };
    expect(admit({ keys: rotating }, heartbeat(`host=web1 ts=${NOW} key=k2`, 'new-secret-0123456789'))).toBe(
      'signed',
    );
    expect(admit({ keys: rotating }, heartbeat(`host=web1 ts=${NOW} key=k1`, 'new-secret-0123456789'))).toBe(
      'auth',
    );
    expect(admit({ keys: rotating }, heartbeat(`host=web1 ts=${NOW} key=k3`, 'new-secret-0123456789'))).toBe(
      'auth',
    );
    expect(admit({ keys: rotating }, heartbeat(`host=web1 ts=${NOW}`, 'old-secret-0123456789'))).toBe(
      'signed',
    );
  });
});

describe('needsSignature', () => {
  // HTTP pings are refused by this rule (they cannot be signed), so it must be the gatekeeper's.
  it.each([
    ['off', { '*': STAR }, 'web1', false],
    ['optional', {}, 'web1', false],
    ['optional', { web1: WEB1 }, 'web1', true],
    ['optional', { web1: WEB1 }, 'web2', false],
    ['optional', { web1: WEB1 }, 'constructor', false],
    ['optional', { '*': STAR }, 'web2', true],
    ['required', {}, 'web1', true],
  ] as const)('auth %s, keys %j: %s needs a signature: %s', (auth, keys, host, expected) => {
    expect(needsSignature({ auth, keys }, host)).toBe(expected);
    const unsigned = admit({ auth, keys }, heartbeat(`host=${host}`));
    expect(unsigned === 'refused unsigned').toBe(expected);
  });
});

describe('Gatekeeper: unsigned heartbeats only from unsigned_networks', () => {
  const unsignedNetworks = ['10.0.0.0/8', 'fd00::/8'];

  it('accepts an unsigned heartbeat from inside, and says why it drops one from outside', () => {
    expect(admit({ unsignedNetworks }, heartbeat('host=web2'), undefined, '10.1.2.3')).toBe('unsigned');
    expect(admit({ unsignedNetworks }, heartbeat('host=web2'), undefined, 'fd00::7')).toBe('unsigned');
    expect(admit({ unsignedNetworks }, heartbeat('host=web2'), undefined, '11.1.2.3')).toBe(
      'refused unsigned',
    );
    const refusal = gatekeeperWith({ unsignedNetworks }).admit(
      heartbeat('host=web2'),
      undefined,
      NOW,
      '8.8.8.8',
    );
    expect(refusal).toEqual({
      ok: false,
      reason: 'unsigned',
      detail: 'from 8.8.8.8: a key is required outside unsigned_networks',
    });
  });

  it('matches an IPv4-mapped IPv6 source (a dual-stack socket) against the IPv4 networks', () => {
    expect(admit({ unsignedNetworks }, heartbeat('host=web2'), undefined, '::ffff:10.9.8.7')).toBe(
      'unsigned',
    );
    expect(admit({ unsignedNetworks }, heartbeat('host=web2'), undefined, '::ffff:a09:807')).toBe('unsigned');
    expect(admit({ unsignedNetworks }, heartbeat('host=web2'), undefined, '::ffff:8.8.8.8')).toBe(
      'refused unsigned',
    );
  });

  it('a verified signature is accepted from anywhere; an unverifiable one only from inside', () => {
    const keys = { web1: WEB1 };
    expect(
      admit({ keys, unsignedNetworks }, heartbeat(`host=web1 ts=${NOW}`, WEB1), undefined, '8.8.8.8'),
    ).toBe('signed');
    // No key for web2: the signature cannot be checked, so the heartbeat counts as unsigned.
    expect(
      admit({ keys, unsignedNetworks }, heartbeat(`host=web2 ts=${NOW}`, WEB1), undefined, '10.0.0.1'),
    ).toBe('unsigned');
    expect(
      admit({ keys, unsignedNetworks }, heartbeat(`host=web2 ts=${NOW}`, WEB1), undefined, '8.8.8.8'),
    ).toBe('auth');
  });

  it('auth off ignores signatures, so every heartbeat is unsigned and the networks still apply', () => {
    const keys = { web1: WEB1 };
    const signed = heartbeat(`host=web1 ts=${NOW}`, WEB1);
    expect(admit({ auth: 'off', keys, unsignedNetworks }, signed, undefined, '10.0.0.1')).toBe('unsigned');
    expect(admit({ auth: 'off', keys, unsignedNetworks }, signed, undefined, '8.8.8.8')).toBe(
      'refused unsigned',
    );
  });

  it('no networks: nothing unsigned from anywhere, not even loopback', () => {
    expect(admit({ unsignedNetworks: [] }, heartbeat('host=web2'))).toBe('refused unsigned');
    expect(
      admit({ unsignedNetworks: ['0.0.0.0/0', '::/0'] }, heartbeat('host=web2'), undefined, '2001:db8::1'),
    ).toBe('unsigned');
  });
});
