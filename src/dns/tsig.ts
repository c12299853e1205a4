/**
 * TSIG (RFC 8945) over raw DNS message bytes, plus the few wire-format helpers it needs.
 * Hand-written because the MAC covers exact bytes (header counts, the original ID, the
 * uncompressed names) that a generic DNS encoder does not let us control.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { TsigAlgorithm, TsigKey } from './update-types.js';

export const TYPE_TSIG = 250;
export const CLASS_ANY = 255;
export const DEFAULT_FUDGE = 300;

/** TSIG error field values (RFC 8945 §3). */
export const TSIG_ERRORS: Readonly<Record<number, string>> = {
  16: 'BADSIG',
  17: 'BADKEY',
  18: 'BADTIME',
  22: 'BADTRUNC',
};

const ALGORITHMS: Readonly<Record<TsigAlgorithm, { wire: string; hash: string }>> = {
  // hmac-md5 keeps its historical long name on the wire.
  'hmac-md5': { wire: 'hmac-md5.sig-alg.reg.int', hash: 'md5' },
  'hmac-sha1': { wire: 'hmac-sha1', hash: 'sha1' },
  'hmac-sha224': { wire: 'hmac-sha224', hash: 'sha224' },
  'hmac-sha256': { wire: 'hmac-sha256', hash: 'sha256' },
  'hmac-sha384': { wire: 'hmac-sha384', hash: 'sha384' },
  'hmac-sha512': { wire: 'hmac-sha512', hash: 'sha512' },
};

export class MalformedMessageError extends Error {
  override name = 'MalformedMessageError';
}

/** Uncompressed, lower-cased wire form; callers validate names before they get here. */
export function encodeName(name: string): Buffer {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  const parts: Buffer[] = [];
  if (trimmed !== '') {
    for (const label of trimmed.toLowerCase().split('.')) {
      const bytes = Buffer.from(label, 'ascii');
      if (bytes.length === 0 || bytes.length > 63) throw new MalformedMessageError(`bad label in ${name}`);
      parts.push(Buffer.of(bytes.length), bytes);
    }
  }
  parts.push(Buffer.of(0));
  const out = Buffer.concat(parts);
  if (out.length > 255) throw new MalformedMessageError(`name too long: ${name}`);
  return out;
}

/** Reads a possibly compressed name; `end` is where the name ends in place (after a pointer). */
export function readName(msg: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let pos = offset;
  let end = -1;
  // Each pointer must go strictly backwards, so hostile pointer loops cannot hang us.
  let limit = offset;
  for (;;) {
    const len = msg[pos];
    if (len === undefined) throw new MalformedMessageError('name runs past the message');
    if (len === 0) {
      if (end < 0) end = pos + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      const low = msg[pos + 1];
      if (low === undefined) throw new MalformedMessageError('truncated name pointer');
      const target = ((len & 0x3f) << 8) | low;
      if (target >= limit) throw new MalformedMessageError('name pointer does not point backwards');
      if (end < 0) end = pos + 2;
      limit = target;
      pos = target;
      continue;
    }
    if (len > 63) throw new MalformedMessageError('bad label length');
    if (pos + 1 + len > msg.length) throw new MalformedMessageError('label runs past the message');
    labels.push(msg.toString('latin1', pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  return { name: labels.join('.'), end };
}

function algorithmOf(key: TsigKey): { wire: string; hash: string } {
  const alg = ALGORITHMS[key.algorithm];
  if (alg === undefined) throw new Error(`unsupported TSIG algorithm ${String(key.algorithm)}`);
  return alg;
}

/** Throws for an unknown algorithm or an unusable secret, so bad config fails before any update. */
export function checkKey(key: TsigKey): void {
  algorithmOf(key);
  decodeSecret(key);
}

function decodeSecret(key: TsigKey): Buffer {
  const secret = Buffer.from(key.secret, 'base64');
  if (secret.length === 0) throw new Error(`TSIG key ${key.name} has an empty or non-base64 secret`);
  return secret;
}

interface TsigFields {
  timeSigned: number;
  fudge: number;
  error: number;
  otherData: Buffer;
}

function writeTime(buf: Buffer, offset: number, seconds: number): void {
  buf.writeUInt16BE(Math.floor(seconds / 2 ** 32), offset);
  buf.writeUInt32BE(seconds % 2 ** 32, offset + 2);
}

/** The "TSIG variables" of RFC 8945 §4.3.3, always in canonical form. */
function tsigVariables(key: TsigKey, f: TsigFields): Buffer {
  const classAndTtl = Buffer.alloc(6); // TTL is always 0
  classAndTtl.writeUInt16BE(CLASS_ANY, 0);
  const rest = Buffer.alloc(12);
  writeTime(rest, 0, f.timeSigned);
  rest.writeUInt16BE(f.fudge, 6);
  rest.writeUInt16BE(f.error, 8);
  rest.writeUInt16BE(f.otherData.length, 10);
  return Buffer.concat([
    encodeName(key.name),
    classAndTtl,
    encodeName(algorithmOf(key).wire),
    rest,
    f.otherData,
  ]);
}

/** `priorMac` is the request MAC when computing or checking a reply's MAC. */
export function computeMac(key: TsigKey, message: Buffer, f: TsigFields, priorMac?: Buffer): Buffer {
  const hmac = createHmac(algorithmOf(key).hash, decodeSecret(key));
  if (priorMac !== undefined) {
    const len = Buffer.alloc(2);
    len.writeUInt16BE(priorMac.length, 0);
    hmac.update(len);
    hmac.update(priorMac);
  }
  hmac.update(message);
  hmac.update(tsigVariables(key, f));
  return hmac.digest();
}

/**
 * Appends a TSIG RR to an unsigned message; returns the signed bytes and the MAC a reply will chain
 * on. `requestMac` signs a reply (only the tests play server).
 */
export function signMessage(
  message: Buffer,
  key: TsigKey,
  timeSigned: number,
  fudge = DEFAULT_FUDGE,
  requestMac?: Buffer,
): { signed: Buffer; mac: Buffer } {
  const fields: TsigFields = { timeSigned, fudge, error: 0, otherData: Buffer.alloc(0) };
  const mac = computeMac(key, message, fields, requestMac);
  const alg = encodeName(algorithmOf(key).wire);
  const rdata = Buffer.concat([alg, Buffer.alloc(10), mac, Buffer.alloc(6)]);
  writeTime(rdata, alg.length, timeSigned);
  rdata.writeUInt16BE(fudge, alg.length + 6);
  rdata.writeUInt16BE(mac.length, alg.length + 8);
  rdata.writeUInt16BE(message.readUInt16BE(0), alg.length + 10 + mac.length); // original ID
  // error and other len stay 0
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(TYPE_TSIG, 0);
  fixed.writeUInt16BE(CLASS_ANY, 2);
  fixed.writeUInt32BE(0, 4);
  fixed.writeUInt16BE(rdata.length, 8);
  const signed = Buffer.concat([message, encodeName(key.name), fixed, rdata]);
  signed.writeUInt16BE(message.readUInt16BE(10) + 1, 10);
  return { signed, mac };
}

export interface ParsedTsig {
  keyName: string;
  algorithm: string;
  timeSigned: number;
  fudge: number;
  mac: Buffer;
  originalId: number;
  error: number;
  otherData: Buffer;
  /** Offset where the TSIG RR starts: the bytes before it are what the MAC covers. */
  start: number;
}

function need(msg: Buffer, end: number): void {
  if (end > msg.length) throw new MalformedMessageError('record runs past the message');
}

/** Finds the TSIG RR, which RFC 8945 requires to be the last additional record; null when unsigned. */
export function findTsig(msg: Buffer): ParsedTsig | null {
  need(msg, 12);
  const qd = msg.readUInt16BE(4);
  const rrs = msg.readUInt16BE(6) + msg.readUInt16BE(8) + msg.readUInt16BE(10);
  let pos = 12;
  for (let i = 0; i < qd; i++) {
    pos = readName(msg, pos).end + 4;
    need(msg, pos);
  }
  for (let i = 0; i < rrs; i++) {
    const start = pos;
    const owner = readName(msg, pos);
    pos = owner.end;
    need(msg, pos + 10);
    const type = msg.readUInt16BE(pos);
    const rdlength = msg.readUInt16BE(pos + 8);
    const rdata = pos + 10;
    pos = rdata + rdlength;
    need(msg, pos);
    if (type !== TYPE_TSIG) continue;
    if (i !== rrs - 1 || pos !== msg.length)
      throw new MalformedMessageError('TSIG record is not the last record');
    const alg = readName(msg, rdata);
    let p = alg.end;
    need(msg, p + 10);
    const timeSigned = msg.readUInt16BE(p) * 2 ** 32 + msg.readUInt32BE(p + 2);
    const fudge = msg.readUInt16BE(p + 6);
    const macSize = msg.readUInt16BE(p + 8);
    p += 10;
    need(msg, p + macSize + 6);
    const mac = msg.subarray(p, p + macSize);
    p += macSize;
    const originalId = msg.readUInt16BE(p);
    const error = msg.readUInt16BE(p + 2);
    const otherLen = msg.readUInt16BE(p + 4);
    p += 6;
    need(msg, p + otherLen);
    if (p + otherLen !== pos) throw new MalformedMessageError('TSIG RDATA length mismatch');
    const otherData = msg.subarray(p, p + otherLen);
    return {
      keyName: owner.name,
      algorithm: alg.name,
      timeSigned,
      fudge,
      mac,
      originalId,
      error,
      otherData,
      start,
    };
  }
  if (pos !== msg.length) throw new MalformedMessageError('trailing bytes after the last record');
  return null;
}

export type TsigVerdict =
  | { status: 'ok' }
  | { status: 'unsigned' }
  /** The server rejected our signature; its TSIG error is all it can say (usually unsigned). */
  | { status: 'server-error'; error: number }
  | { status: 'bad'; code: 'BADSIG' | 'BADKEY' | 'BADTIME'; detail: string };

function sameName(a: string, b: string): boolean {
  const norm = (n: string) => (n.endsWith('.') ? n.slice(0, -1) : n).toLowerCase();
  return norm(a) === norm(b);
}

/**
 * Verifies a signed message. With `requestMac` this is a reply check (RFC 8945 §5.3.1), without
 * it a request check (used by the tests to verify other implementations' requests).
 */
export function verifyMessage(
  msg: Buffer,
  key: TsigKey,
  nowSeconds: number,
  requestMac?: Buffer,
): TsigVerdict {
  const tsig = findTsig(msg);
  if (tsig === null) return { status: 'unsigned' };
  if (tsig.error !== 0) return { status: 'server-error', error: tsig.error };
  if (!sameName(tsig.keyName, key.name)) {
    return { status: 'bad', code: 'BADKEY', detail: `signed with key ${tsig.keyName}, expected ${key.name}` };
  }
  if (!sameName(tsig.algorithm, algorithmOf(key).wire)) {
    return { status: 'bad', code: 'BADKEY', detail: `signed with algorithm ${tsig.algorithm}` };
  }
  const covered = Buffer.from(msg.subarray(0, tsig.start));
  covered.writeUInt16BE(tsig.originalId, 0);
  covered.writeUInt16BE(covered.readUInt16BE(10) - 1, 10);
  const expected = computeMac(key, covered, tsig, requestMac);
  // Truncated MACs (RFC 8945 §5.2.2.1) are not accepted: BIND never sends them unasked.
  if (tsig.mac.length !== expected.length || !timingSafeEqual(tsig.mac, expected)) {
    return { status: 'bad', code: 'BADSIG', detail: 'MAC does not verify' };
  }
  if (Math.abs(nowSeconds - tsig.timeSigned) > tsig.fudge) {
    return { status: 'bad', code: 'BADTIME', detail: `signed at ${tsig.timeSigned}, now ${nowSeconds}` };
  }
  return { status: 'ok' };
}
