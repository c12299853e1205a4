/**
 * `hbd send`: sends hb/1 heartbeats over UDP, once, or every N seconds until
 * stopped (then a last `status=bye` tells the daemon the host left on purpose).
 */
import { readFile, stat } from 'node:fs/promises';
import { isIPv6 } from 'node:net';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { errorMessage } from '../lib/error-message.js';
import { encodeHeartbeat, type HeartbeatInput } from '../protocol/encode.js';
import { isValidHostName } from '../protocol/hostname.js';
import { STATUSES, type Status } from '../protocol/types.js';
import { type Delivery, type Resolve, type Server, UdpSender } from './udp-sender.js';

const DEFAULT_PORT = 50003;
const DEFAULT_SERVER = `127.0.0.1:${DEFAULT_PORT}`;

export interface SendOptions {
  /** Where to send: `host[:port]`, `[ipv6]:port` or a bare IPv6 address. Default 127.0.0.1:50003. */
  server?: string[];
  /** Default: this machine's name, lower-cased (its first label if the full name is not valid). */
  host?: string;
  key?: string;
  /** A file holding the secret (surrounding whitespace ignored). */
  keyFile?: string;
  keyId?: string;
  status?: Status;
  msg?: string;
  zlib?: boolean;
  /** Seconds between heartbeats: sends `count` times, or until `signal` aborts, instead of once. */
  every?: number;
  count?: number;
  ip4?: string;
  ip6?: string;
  /** Extra fields, each `key=value`. */
  fields?: string[];
  /** Ends an `every` loop, after a last `status=bye` heartbeat. */
  signal?: AbortSignal;
  /** False: end a loop without `status=bye`, so hbd sees the host go quiet as if it had failed. */
  bye?: boolean;
  /** Where warnings go; default stderr. */
  warn?: (message: string) => void;
  /** Where the line for each heartbeat sent goes; default stdout. */
  print?: (line: string) => void;
  /** Print nothing for the heartbeats sent (problems still go to `warn` or are thrown). */
  quiet?: boolean;
  /** How long a one-shot send waits to hear that nothing listens; see `UdpSender`. */
  refusalWaitMs?: number;
  /** How server names are looked up, and how often again in a loop; see `UdpSender`. */
  resolve?: Resolve;
  resolveEveryMs?: number;
}

/** What the user asked for is wrong (exit 2), as opposed to a failure while sending (exit 1). */
export class SendUsageError extends Error {}

/** A one-shot heartbeat did not reach every server (exit 1): one problem per server it missed. */
export class SendFailed extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join('; '));
    this.problems = problems;
  }
}

export async function runSend(options: SendOptions): Promise<void> {
  const warn = options.warn ?? ((message: string) => process.stderr.write(`warning: ${message}\n`));
  if (options.count !== undefined && options.every === undefined)
    throw new SendUsageError('--count needs --every');
  const secret = await readSecret(options, warn);
  if (options.keyId !== undefined && secret === undefined) {
    throw new SendUsageError('--key-id needs --key or --key-file');
  }
  const servers = (options.server?.length ? options.server : [DEFAULT_SERVER]).map(parseServer);
  const template: HeartbeatInput = {
    host: options.host ?? defaultHostName(),
    every: options.every,
    status: options.status,
    msg: options.msg,
    ip4: options.ip4,
    ip6: options.ip6,
    keyId: options.keyId,
    fields: parseFields(options.fields ?? []),
  };
  const encode = (extra: Partial<HeartbeatInput> = {}) =>
    encodeHeartbeat({ ...template, ts: Date.now() / 1000, ...extra }, { secret, zlib: options.zlib });
  try {
    // Later heartbeats differ only in ts and seq: if this one encodes, they all do.
    encode({ seq: options.every === undefined ? undefined : 1 });
  } catch (error) {
    throw new SendUsageError(errorMessage(error));
  }

  const sender = new UdpSender(servers, {
    mode: options.every === undefined ? 'once' : 'loop',
    warn,
    resolve: options.resolve,
    resolveEveryMs: options.resolveEveryMs,
    refusalWaitMs: options.refusalWaitMs,
    keepGoing: options.every === undefined ? undefined : `still sending every ${options.every} s`,
  });
  const print = options.quiet ? () => {} : (options.print ?? ((line) => process.stdout.write(`${line}\n`)));
  const notes = [secret === undefined ? 'unsigned' : 'signed', ...(options.zlib ? ['zlib'] : [])];
  const send = async (extra: Partial<HeartbeatInput> = {}): Promise<Delivery[]> => {
    const deliveries = await sender.send(encode(extra));
    const sent = { host: template.host.toLowerCase(), status: template.status ?? 'ok', ...extra };
    for (const delivery of deliveries) {
      if (delivery.error === undefined) print(sentLine(sent, delivery, notes));
    }
    return deliveries;
  };
  try {
    if (options.every === undefined) {
      const failures = (await send()).flatMap((delivery) => (delivery.error ? [delivery.error.message] : []));
      if (failures.length > 0) throw new SendFailed(failures);
    } else {
      await loop(options.every, options.count, send, options.signal, options.bye ?? true);
    }
  } finally {
    sender.close();
  }
}

/** `sent web1 status=ok seq=3 to 127.0.0.1:50003 (signed)`: what went where. */
export function sentLine(
  heartbeat: { host: string; status: string; seq?: number | undefined },
  delivery: Delivery,
  notes: readonly string[],
): string {
  const seq = heartbeat.seq === undefined ? '' : ` seq=${heartbeat.seq}`;
  const about = [...(delivery.name === undefined ? [] : [delivery.name]), ...notes].join(', ');
  return `sent ${heartbeat.host} status=${heartbeat.status}${seq} to ${delivery.to} (${about})`;
}

/** One heartbeat every `every` seconds, seq from 1; a last `status=bye` when `signal` aborts. */
async function loop(
  every: number,
  count: number | undefined,
  send: (extra: Partial<HeartbeatInput>) => Promise<unknown>,
  signal: AbortSignal | undefined,
  bye: boolean,
): Promise<void> {
  const intervalMs = every * 1000;
  let nextAt = performance.now();
  let seq = 0;
  while (!signal?.aborted && (count === undefined || seq < count)) {
    // Rejects only when aborted, which the loop condition then sees.
    await sleep(Math.max(0, nextAt - performance.now()), undefined, { signal }).catch(() => {});
    if (signal?.aborted) break;
    seq++;
    await send({ seq });
    // Keep to the schedule rather than drift by each send's duration; after a stall
    // (suspend, overload) send once right away instead of catching up with a burst.
    nextAt = Math.max(nextAt + intervalMs, performance.now());
  }
  if (signal?.aborted && bye) await send({ seq: seq + 1, status: 'bye' });
}

async function readSecret(
  options: SendOptions,
  warn: (message: string) => void,
): Promise<string | undefined> {
  if (options.key !== undefined && options.keyFile !== undefined) {
    throw new SendUsageError('use --key or --key-file, not both');
  }
  if (options.keyFile === undefined) {
    if (options.key === '') throw new SendUsageError('--key is empty');
    return options.key;
  }
  const path = options.keyFile;
  let content: string;
  try {
    content = await readFile(path, 'utf8');
    const { mode } = await stat(path);
    if (process.platform !== 'win32' && (mode & 0o044) !== 0) {
      warn(`key file ${path} can be read by other users than its owner (chmod 600 ${path})`);
    }
  } catch (error) {
    throw new SendUsageError(`cannot read key file: ${errorMessage(error)}`);
  }
  const secret = content.trim();
  if (secret === '') throw new SendUsageError(`key file ${path} is empty`);
  return secret;
}

function defaultHostName(): string {
  const full = hostname().toLowerCase();
  if (isValidHostName(full)) return full;
  const firstLabel = full.split('.')[0] ?? '';
  if (isValidHostName(firstLabel)) return firstLabel;
  throw new SendUsageError(`this machine's name "${full}" is not a valid host name: pass --host`);
}

function parseFields(specs: string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const spec of specs) {
    const equals = spec.indexOf('=');
    if (equals <= 0) throw new SendUsageError(`field "${spec}" is not key=value`);
    const key = spec.slice(0, equals);
    if (Object.hasOwn(fields, key)) throw new SendUsageError(`field "${key}" is given twice`);
    fields[key] = spec.slice(equals + 1);
  }
  return fields;
}

/** `host`, `host:port`, `[ipv6]`, `[ipv6]:port` or a bare IPv6 address (which has no room for a port). */
export function parseServer(spec: string): Server {
  let host: string;
  let port: string | undefined;
  if (spec.startsWith('[')) {
    const close = spec.indexOf(']');
    const rest = spec.slice(close + 1);
    if (close < 0 || (rest !== '' && !rest.startsWith(':'))) {
      throw new SendUsageError(`--server "${spec}": expected [ipv6]:port`);
    }
    host = spec.slice(1, close);
    if (rest !== '') port = rest.slice(1);
  } else if (isIPv6(spec)) {
    host = spec;
  } else {
    const colon = spec.lastIndexOf(':');
    host = colon < 0 ? spec : spec.slice(0, colon);
    if (colon >= 0) port = spec.slice(colon + 1);
  }
  if (host === '') throw new SendUsageError(`--server "${spec}": no host`);
  return { host, port: port === undefined ? DEFAULT_PORT : parsePort(port, spec) };
}

function parsePort(text: string, spec: string): number {
  const port = Number(text);
  if (!/^\d{1,5}$/.test(text) || port < 1 || port > 65535) {
    throw new SendUsageError(`--server "${spec}": port must be 1 to 65535`);
  }
  return port;
}

function parsePositiveSeconds(value: string): number {
  const seconds = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(seconds > 0)) throw new InvalidArgumentError('expected seconds > 0');
  return seconds;
}

function parsePositiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n === 0) {
    throw new InvalidArgumentError('expected an integer > 0');
  }
  return n;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

const EXAMPLES = `
Examples:
  $ hbd send                                      one heartbeat for this host to ${DEFAULT_SERVER}
  $ hbd send --server hb.example.com --key-file /etc/hbd/key load=0.42 rack=r7
  $ hbd send --server [2001:db8::1]:50003 --status warn --msg "disk 91% full"
  $ hbd send --every 30 --key-file /etc/hbd/key   until stopped; Ctrl-C or SIGTERM sends status=bye
  $ echo web1 | nc -u -w0 127.0.0.1 50003         the same without hbd (unsigned)`;

type CliOptions = Omit<SendOptions, 'fields' | 'signal' | 'warn' | 'print' | 'refusalWaitMs'>;

export function sendCommand(): Command {
  const command = new Command('send');
  return command
    .description('send a heartbeat (or one every N seconds) to hbd over UDP')
    .argument('[fields...]', 'extra fields, each key=value: labels or metrics of this host')
    .option(
      '--server <host[:port]>',
      `where to send; repeat for several (default: ${DEFAULT_SERVER}; IPv6 as [::1]:50003 or ::1)`,
      collect,
    )
    .option('--host <name>', "this host's name (default: the machine's name)")
    .option('--key <secret>', 'sign with this secret (visible in ps: prefer --key-file)')
    .option('--key-file <path>', 'sign with the secret in this file')
    .option('--key-id <id>', 'the id of the key, where the daemon knows several')
    .addOption(new Option('--status <status>', 'status to report (default: ok)').choices(STATUSES))
    .option('--msg <text>', 'a message for people (at most 1024 characters)')
    .option('--zlib', 'compress the datagram')
    .option(
      '--every <seconds>',
      'send every N seconds until stopped (seq counts from 1)',
      parsePositiveSeconds,
    )
    .option('--count <n>', 'with --every: stop after n heartbeats', parsePositiveInteger)
    .option('--no-bye', 'with --every: stop without status=bye, so the host goes late, then down')
    .option('--ip4 <address>', 'IPv4 address to publish instead of the source address')
    .option('--ip6 <address>', 'IPv6 address to publish instead of the source address')
    .option('-q, --quiet', 'print nothing for each heartbeat sent (problems still go to stderr)')
    .addHelpText('after', EXAMPLES)
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2))
    .action(async (fields: string[], options: CliOptions) => {
      // Only a loop has a bye to send; a one-shot send stops on a signal like any program.
      const stop = new AbortController();
      const abort = () => stop.abort();
      if (options.every !== undefined) {
        process.once('SIGINT', abort);
        process.once('SIGTERM', abort);
      }
      try {
        await runSend({ ...options, fields, signal: stop.signal });
      } catch (error) {
        if (error instanceof SendUsageError) command.error(`error: ${error.message}`, { exitCode: 2 });
        const problems = error instanceof SendFailed ? error.problems : [errorMessage(error)];
        for (const problem of problems) process.stderr.write(`error: ${problem}\n`);
        process.exitCode = 1;
      } finally {
        process.off('SIGINT', abort);
        process.off('SIGTERM', abort);
      }
    });
}
