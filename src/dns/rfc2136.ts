/**
 * The native update method: builds RFC 2136 UPDATE messages itself, signs them with TSIG and
 * speaks UDP (TCP when the message or the reply does not fit) straight to the primary server.
 */
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net, { isIPv6 } from 'node:net';
import {
  CLASS_ANY,
  checkKey,
  encodeName,
  MalformedMessageError,
  signMessage,
  verifyMessage,
} from './tsig.js';
import type {
  DnsServer,
  DnsUpdateErrorCode,
  DnsUpdater,
  RecordChange,
  TsigKey,
  UpdateRequest,
} from './update-types.js';
import { DnsUpdateError } from './update-types.js';
import { checkChange, invalid, normalizeName } from './validate.js';

export interface Rfc2136Options {
  server: DnsServer;
  key: TsigKey | null;
  /** Whole-update deadline, UDP and any TCP fallback included. */
  timeoutMs?: number;
  /** Milliseconds since the epoch; injectable so tests can provoke BADTIME. */
  now?: () => number;
}

const OPCODE_UPDATE = 5;
const CLASS_IN = 1;
const TYPE_SOA = 6;
const TYPE_CODES = { A: 1, AAAA: 28 } as const;
const FLAG_QR = 0x8000;
const FLAG_TC = 0x0200;
/** Classic DNS over UDP without EDNS: anything larger must go over TCP (RFC 1035 §4.2.1). */
const UDP_LIMIT = 512;

const RCODES: Readonly<Record<number, DnsUpdateErrorCode>> = {
  1: 'FORMERR',
  2: 'SERVFAIL',
  5: 'REFUSED',
  6: 'YXDOMAIN',
  8: 'NXRRSET',
  9: 'NOTAUTH',
  10: 'NOTZONE',
};
const RCODE_NAMES = [
  'NOERROR',
  'FORMERR',
  'SERVFAIL',
  'NXDOMAIN',
  'NOTIMP',
  'REFUSED',
  'YXDOMAIN',
  'YXRRSET',
];
const TSIG_ERROR_CODES: Readonly<Record<number, DnsUpdateErrorCode>> = {
  16: 'BADSIG',
  17: 'BADKEY',
  18: 'BADTIME',
};

function ipv4Bytes(address: string): Buffer {
  return Buffer.from(address.split('.').map(Number));
}

function ipv6Bytes(address: string): Buffer {
  let text = address;
  const embedded = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (embedded?.[1] !== undefined && embedded[2] !== undefined) {
    const v4 = ipv4Bytes(embedded[2]);
    text = `${embedded[1]}${v4.readUInt16BE(0).toString(16)}:${v4.readUInt16BE(2).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const split = (s: string) => (s === '' ? [] : s.split(':'));
  const groups =
    tail === undefined
      ? split(head)
      : [
          ...split(head),
          ...new Array<string>(8 - split(head).length - split(tail).length).fill('0'),
          ...split(tail),
        ];
  if (groups.length !== 8) throw invalid(`bad IPv6 address ${address}`);
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => {
    out.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  });
  return out;
}

interface ValidChange {
  name: string;
  type: 'A' | 'AAAA';
  rdata: Buffer | null;
  ttl: number;
}

function validateChange(change: RecordChange, zone: string): ValidChange {
  const { name, type, address, ttl } = checkChange(change, zone);
  if (address === null) return { name, type, rdata: null, ttl };
  return { name, type, rdata: type === 'A' ? ipv4Bytes(address) : ipv6Bytes(address), ttl };
}

function rr(name: string, type: number, klass: number, ttl: number, rdata: Buffer): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(type, 0);
  fixed.writeUInt16BE(klass, 2);
  fixed.writeUInt32BE(ttl, 4);
  fixed.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([encodeName(name), fixed, rdata]);
}

/** Each change replaces its RRset: delete RRset (class ANY, RFC 2136 §2.5.2), then add. */
function buildUpdateMessage(id: number, zone: string, changes: readonly ValidChange[]): Buffer {
  const updates: Buffer[] = [];
  for (const c of changes) {
    updates.push(rr(c.name, TYPE_CODES[c.type], CLASS_ANY, 0, Buffer.alloc(0)));
    if (c.rdata !== null) updates.push(rr(c.name, TYPE_CODES[c.type], CLASS_IN, c.ttl, c.rdata));
  }
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(OPCODE_UPDATE << 11, 2);
  header.writeUInt16BE(1, 4); // ZOCOUNT
  header.writeUInt16BE(updates.length, 8); // UPCOUNT
  const zoneSection = Buffer.alloc(4);
  zoneSection.writeUInt16BE(TYPE_SOA, 0);
  zoneSection.writeUInt16BE(CLASS_IN, 2);
  return Buffer.concat([header, encodeName(zone), zoneSection, ...updates]);
}

function networkError(err: unknown, server: DnsServer): DnsUpdateError {
  const code = (err as NodeJS.ErrnoException | null)?.code ?? 'unknown';
  return new DnsUpdateError('NETWORK', `${server.host}:${server.port}: ${code}`, { cause: err });
}

function isReplyTo(reply: Buffer, id: number): boolean {
  return reply.length >= 12 && reply.readUInt16BE(0) === id && (reply.readUInt16BE(2) & FLAG_QR) !== 0;
}

/**
 * The one way an exchange ends: the first of reply, error or abort wins, the socket is
 * released, and the signal listener removed. An already aborted signal never fires
 * 'abort' (the deadline may pass during the UDP try), so it ends the exchange at once.
 */
function settleOnce(
  signal: AbortSignal,
  release: () => void,
  resolve: (reply: Buffer) => void,
  reject: (error: unknown) => void,
): (error: unknown, reply?: Buffer) => void {
  let done = false;
  const finish = (error: unknown, reply?: Buffer) => {
    if (done) return;
    done = true;
    signal.removeEventListener('abort', onAbort);
    release();
    if (reply === undefined) reject(error);
    else resolve(reply);
  };
  const onAbort = () => finish(signal.reason);
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return finish;
}

/** Resolves with the first reply carrying our ID; anything else (stray or forged) is ignored. */
function exchangeUdp(server: DnsServer, message: Buffer, id: number, signal: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(isIPv6(server.host) ? 'udp6' : 'udp4');
    const finish = settleOnce(signal, () => socket.close(), resolve, reject);
    if (signal.aborted) return;
    // Connected, so an ICMP port-unreachable comes back as ECONNREFUSED instead of a silent timeout.
    socket.on('error', (err) => finish(networkError(err, server)));
    socket.on('message', (reply) => {
      if (isReplyTo(reply, id)) finish(null, reply);
    });
    socket.connect(server.port, server.host, () => {
      socket.send(message, (err) => {
        if (err) finish(networkError(err, server));
      });
    });
  });
}

function exchangeTcp(server: DnsServer, message: Buffer, signal: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: server.host, port: server.port });
    let received = Buffer.alloc(0);
    const finish = settleOnce(signal, () => socket.destroy(), resolve, reject);
    if (signal.aborted) return;
    socket.on('error', (err) => finish(networkError(err, server)));
    socket.on('close', () => finish(new DnsUpdateError('NETWORK', 'connection closed before a full reply')));
    socket.on('connect', () => {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(message.length, 0);
      socket.write(Buffer.concat([length, message]));
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 2) return;
      const size = received.readUInt16BE(0);
      if (received.length >= 2 + size) finish(null, received.subarray(2, 2 + size));
    });
  });
}

function rcodeError(rcode: number, context: string): DnsUpdateError {
  const code = RCODES[rcode] ?? 'OTHER';
  const name = RCODE_NAMES[rcode] ?? `rcode ${rcode}`;
  return new DnsUpdateError(code, `server answered ${name}${context}`, { rcode });
}

/** Throws unless the reply is an authentic NOERROR answer to our update. */
function checkReply(
  reply: Buffer,
  id: number,
  key: TsigKey | null,
  requestMac: Buffer | null,
  now: number,
): void {
  if (!isReplyTo(reply, id)) throw new DnsUpdateError('BADRESPONSE', 'reply does not match the request ID');
  const flags = reply.readUInt16BE(2);
  const opcode = (flags >> 11) & 0xf;
  const rcode = flags & 0xf;
  if (opcode !== OPCODE_UPDATE) throw new DnsUpdateError('BADRESPONSE', `reply has opcode ${opcode}`);
  if (key === null || requestMac === null) {
    if (rcode !== 0) throw rcodeError(rcode, '');
    return;
  }
  let verdict: ReturnType<typeof verifyMessage>;
  try {
    verdict = verifyMessage(reply, key, Math.floor(now / 1000), requestMac);
  } catch (err) {
    if (err instanceof MalformedMessageError)
      throw new DnsUpdateError('BADRESPONSE', err.message, { cause: err });
    throw err;
  }
  switch (verdict.status) {
    case 'ok':
      if (rcode !== 0) throw rcodeError(rcode, '');
      return;
    case 'server-error': {
      // The server could not verify us; BADSIG/BADKEY replies cannot be signed, so they are taken as is.
      const code = TSIG_ERROR_CODES[verdict.error] ?? 'OTHER';
      throw new DnsUpdateError(code, `server rejected our TSIG signature: ${code} (error ${verdict.error})`, {
        rcode,
      });
    }
    case 'unsigned':
      // An unsigned error can only make us retry; an unsigned success must never be believed.
      if (rcode !== 0) throw rcodeError(rcode, ' (unsigned reply)');
      throw new DnsUpdateError('BADRESPONSE', 'reply to a signed update is not signed');
    case 'bad':
      throw new DnsUpdateError(verdict.code, `reply signature check failed: ${verdict.detail}`, { rcode });
  }
}

export function createRfc2136Updater(options: Rfc2136Options): DnsUpdater {
  const { server, key } = options;
  const timeoutMs = options.timeoutMs ?? 5000;
  const now = options.now ?? Date.now;
  if (key !== null) {
    // Fail at configuration time rather than on every update.
    normalizeName(key.name, 'TSIG key name');
    try {
      checkKey(key);
    } catch (err) {
      throw invalid((err as Error).message);
    }
  }

  async function send(message: Buffer, id: number, signal: AbortSignal): Promise<void> {
    const signed = key === null ? null : signMessage(message, key, Math.floor(now() / 1000));
    const wire = signed?.signed ?? message;
    const requestMac = signed?.mac ?? null;
    let reply =
      wire.length > UDP_LIMIT
        ? await exchangeTcp(server, wire, signal)
        : await exchangeUdp(server, wire, id, signal);
    if (isReplyTo(reply, id) && (reply.readUInt16BE(2) & FLAG_TC) !== 0)
      reply = await exchangeTcp(server, wire, signal);
    checkReply(reply, id, key, requestMac, now());
  }

  return {
    method: 'rfc2136',
    async update(request: UpdateRequest, signal?: AbortSignal): Promise<void> {
      signal?.throwIfAborted();
      const zone = normalizeName(request.zone, 'zone');
      const changes = request.changes.map((c) => validateChange(c, zone));
      if (changes.length === 0) return;
      const id = randomInt(0, 0x10000);
      const message = buildUpdateMessage(id, zone, changes);

      const controller = new AbortController();
      const timer = setTimeout(() => {
        controller.abort(
          new DnsUpdateError('TIMEOUT', `no reply from ${server.host}:${server.port} within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      const onAbort = () => controller.abort(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        await send(message, id, controller.signal);
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      }
    },
  };
}
