import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { findTsig, MalformedMessageError, readName, signMessage, verifyMessage } from '../../src/dns/tsig.js';
import type { TsigAlgorithm, TsigKey } from '../../src/dns/update-types.js';
import { findBindTool } from '../helpers/named.js';

const ALGORITHMS: TsigAlgorithm[] = [
  'hmac-md5',
  'hmac-sha1',
  'hmac-sha224',
  'hmac-sha256',
  'hmac-sha384',
  'hmac-sha512',
];

function keyFor(algorithm: TsigAlgorithm, fill = 0x5a): TsigKey {
  return { name: 'hbd-test.key', algorithm, secret: Buffer.alloc(32, fill).toString('base64') };
}

/** Runs nsupdate against a silent UDP socket and returns the first (signed) request it sends. */
async function captureNsupdateRequest(key: TsigKey): Promise<Buffer> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  const request = new Promise<Buffer>((resolve) => socket.once('message', resolve));
  const child = spawn(findBindTool('nsupdate'), ['-y', `${key.algorithm}:${key.name}:${key.secret}`], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  child.stdin.on('error', () => {});
  child.stdin.end(
    [
      `server 127.0.0.1 ${port}`,
      'zone dyn.example.test',
      'update delete h.dyn.example.test A',
      'update add h.dyn.example.test 60 A 192.0.2.1',
      'send',
      '',
    ].join('\n'),
  );
  try {
    return await request;
  } finally {
    child.kill('SIGKILL');
    socket.close();
  }
}

const now = () => Math.floor(Date.now() / 1000);

describe('TSIG against BIND', () => {
  // nsupdate is the independent implementation here: if our MAC of its request matches its MAC,
  // our digest layout (variables, canonical names, algorithm names) is right for every algorithm.
  it.each(ALGORITHMS)('verifies a request nsupdate signed with %s', async (algorithm) => {
    const key = keyFor(algorithm);
    const request = await captureNsupdateRequest(key);
    expect(verifyMessage(request, key, now())).toEqual({ status: 'ok' });
    expect(verifyMessage(request, keyFor(algorithm, 0x11), now())).toMatchObject({
      status: 'bad',
      code: 'BADSIG',
    });
    const tampered = Buffer.from(request);
    tampered[20] = (tampered[20] ?? 0) ^ 1;
    expect(verifyMessage(tampered, key, now())).toMatchObject({ status: 'bad', code: 'BADSIG' });
  });

  it('signing nsupdate’s unsigned bytes at its time reproduces its request byte for byte', async () => {
    const key = keyFor('hmac-sha256');
    const request = await captureNsupdateRequest(key);
    const tsig = findTsig(request);
    expect(tsig).not.toBeNull();
    if (tsig === null) return;
    const unsigned = Buffer.from(request.subarray(0, tsig.start));
    unsigned.writeUInt16BE(unsigned.readUInt16BE(10) - 1, 10);
    const { signed, mac } = signMessage(unsigned, key, tsig.timeSigned, tsig.fudge);
    expect(mac.equals(tsig.mac)).toBe(true);
    expect(signed.equals(request)).toBe(true);
  });
});

describe('signMessage / verifyMessage', () => {
  const message = Buffer.from('abcd28000001000000000000' + '03646e73047465737400' + '00060001', 'hex');
  const key = keyFor('hmac-sha256');

  it('appends one TSIG RR as the last additional record', () => {
    const { signed, mac } = signMessage(message, key, 1_700_000_000);
    expect(signed.readUInt16BE(10)).toBe(1);
    expect(signed.subarray(0, 10).equals(message.subarray(0, 10))).toBe(true);
    const tsig = findTsig(signed);
    expect(tsig).toMatchObject({
      keyName: 'hbd-test.key',
      algorithm: 'hmac-sha256',
      timeSigned: 1_700_000_000,
      fudge: 300,
      originalId: 0xabcd,
      error: 0,
      start: message.length,
    });
    expect(tsig?.mac.equals(mac)).toBe(true);
    expect(mac.length).toBe(32);
  });

  it('a request verifies only within the fudge', () => {
    const { signed } = signMessage(message, key, 1_700_000_000);
    expect(verifyMessage(signed, key, 1_700_000_300)).toEqual({ status: 'ok' });
    expect(verifyMessage(signed, key, 1_700_000_301)).toMatchObject({ status: 'bad', code: 'BADTIME' });
  });

  it('a reply MAC chains on the request MAC', () => {
    const request = signMessage(message, key, 1_700_000_000);
    const reply = Buffer.from(message);
    reply.writeUInt16BE(0xa800, 2);
    const { signed } = signMessage(reply, key, 1_700_000_001, 300, request.mac);
    expect(verifyMessage(signed, key, 1_700_000_001, request.mac)).toEqual({ status: 'ok' });
    expect(verifyMessage(signed, key, 1_700_000_001)).toMatchObject({ code: 'BADSIG' });
    const otherRequest = signMessage(message, key, 1_700_000_002);
    expect(verifyMessage(signed, key, 1_700_000_001, otherRequest.mac)).toMatchObject({ code: 'BADSIG' });
  });

  it('reports a different key name or algorithm as BADKEY and an unsigned message as such', () => {
    const { signed } = signMessage(message, key, 1_700_000_000);
    expect(verifyMessage(signed, { ...key, name: 'other' }, 1_700_000_000)).toMatchObject({ code: 'BADKEY' });
    expect(verifyMessage(signed, { ...key, algorithm: 'hmac-sha512' }, 1_700_000_000)).toMatchObject({
      code: 'BADKEY',
    });
    expect(verifyMessage(message, key, 1_700_000_000)).toEqual({ status: 'unsigned' });
  });

  it('rejects malformed messages instead of reading past them', () => {
    const { signed } = signMessage(message, key, 1_700_000_000);
    expect(() => findTsig(signed.subarray(0, signed.length - 3))).toThrow(MalformedMessageError);
    expect(() => findTsig(Buffer.concat([signed, Buffer.of(0)]))).toThrow(MalformedMessageError);
    // A name pointer to itself would loop forever.
    expect(() => readName(Buffer.of(0xc0, 0x00), 0)).toThrow(MalformedMessageError);
    expect(readName(Buffer.of(1, 0x61, 0, 0xc0, 0x00), 3)).toEqual({ name: 'a', end: 5 });
  });
});
