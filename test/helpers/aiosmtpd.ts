import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import {
  discardServerDir,
  launchOnFreePort,
  makeServerDir,
  READY_TIMEOUT_MS,
  RunningServer,
  ServerFailed,
  type ServerProcess,
  spawnServer,
  waitUntilReady,
} from './server-process.js';

export interface AiosmtpdOptions {
  /** Paths of a PEM certificate and key: the server then offers STARTTLS and refuses mail without it. */
  starttls?: { cert: string; key: string };
}

/** One message as the server stored it, parsed. */
export interface ParsedMail {
  /** Its Maildir file name. */
  file: string;
  /** Header values, unfolded and with RFC 2047 encoded-words decoded. */
  from: string | undefined;
  to: string | undefined;
  subject: string | undefined;
  /** The text/plain body (the first one, in a multipart message), transfer encoding undone, `\n` line ends. */
  text: string;
  /** Every header under its lower-case name, in order, decoded like `from`. */
  headers: Record<string, string[]>;
  /** What the client said in MAIL FROM and RCPT TO, as the server recorded it. */
  envelope: { mailFrom: string | undefined; rcptTo: string[] };
  /** The stored file, read as Latin-1 so every byte survives. */
  raw: string;
}

export interface RunningSmtp {
  /** `smtp://127.0.0.1:PORT`; with `starttls` the client is expected to upgrade. */
  url: string;
  host: '127.0.0.1';
  port: number;
  dir: string;
  /** Every delivered message, oldest first. */
  messages(): Promise<ParsedMail[]>;
  /** Resolves with the messages once there are at least `count`; rejects after `timeoutMs` (default 5 s). */
  waitForMessages(count: number, timeoutMs?: number): Promise<ParsedMail[]>;
  /** The server's log: with -d it records each SMTP command it received (AUTH arguments masked). */
  log(): string;
  stop(): Promise<void>;
}

const INSTALL_HINT =
  "hbd's email tests run against a real aiosmtpd and fail without it: run ./scripts/install-test-deps.sh " +
  '(or apt-get install python3-aiosmtpd).';

function canImportAiosmtpd(python: string): Promise<'yes' | 'no' | 'absent'> {
  return new Promise((resolve) => {
    execFile(python, ['-c', 'import aiosmtpd'], { timeout: 10_000 }, (error) => {
      if (!error) resolve('yes');
      else resolve((error as NodeJS.ErrnoException).code === 'ENOENT' ? 'absent' : 'no');
    });
  });
}

let pythonFound: Promise<string> | undefined;

/**
 * The interpreter that can import aiosmtpd. Debian's own comes first: the package installs only for
 * it, and a python3 earlier on PATH (pyenv, a venv) would not see it.
 */
function findPython(): Promise<string> {
  pythonFound ??= (async () => {
    const candidates = ['/usr/bin/python3', 'python3'];
    const results = await Promise.all(candidates.map(canImportAiosmtpd));
    const index = results.indexOf('yes');
    if (index >= 0) return candidates[index]!;
    if (results.every((result) => result === 'absent'))
      throw new Error(`python3 was not found. ${INSTALL_HINT}`);
    throw new Error(`python3 cannot import aiosmtpd (tried ${candidates.join(', ')}). ${INSTALL_HINT}`);
  })();
  // A failed lookup is not cached: the package may be installed while a watch run goes on.
  pythonFound.catch(() => {
    pythonFound = undefined;
  });
  return pythonFound;
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(1_000);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

function readLog(logFile: string): string {
  try {
    return readFileSync(logFile, 'utf8');
  } catch {
    return '';
  }
}

function logTail(logFile: string, lines = 25): string {
  const text = readLog(logFile).trimEnd();
  return text === '' ? '(nothing on stderr)' : text.split('\n').slice(-lines).join('\n');
}

async function launch(python: string, args: string[], logFile: string, port: number): Promise<ServerProcess> {
  const server = spawnServer(python, args, logFile, 'truncate');
  // The log line comes after the bind succeeded, so whatever answers the port afterwards is this
  // process and not another test's server that took the port between freePort() and the bind.
  const listening = `Server is listening on 127.0.0.1:${port}`;
  await waitUntilReady(server, {
    ready: async () => readLog(logFile).includes(listening) && (await connects(port)),
    exitedEarly(how) {
      const log = logTail(logFile);
      return new ServerFailed(
        `aiosmtpd exited (${how}) before it listened on 127.0.0.1:${port}; its stderr ends:\n${log}`,
        /address already in use/i.test(log),
      );
    },
    timedOut: () =>
      new Error(
        `aiosmtpd did not accept connections on 127.0.0.1:${port} within ${READY_TIMEOUT_MS} ms; ` +
          `its stderr ends:\n${logTail(logFile)}`,
      ),
  });
  return server;
}

/** Starts a real aiosmtpd on a free 127.0.0.1 port that stores every message in a Maildir of a fresh temp dir. */
export async function startAiosmtpd(options: AiosmtpdOptions = {}): Promise<RunningSmtp> {
  const python = await findPython();
  const dir = makeServerDir('hbd-aiosmtpd-');
  const maildir = join(dir, 'Maildir');
  const logFile = join(dir, 'aiosmtpd.log');
  const tls = options.starttls ? ['--tlscert', options.starttls.cert, '--tlskey', options.starttls.key] : [];
  try {
    const { port, launched } = await launchOnFreePort((port) => {
      // -n: as root it would otherwise become nobody, who cannot write to our temp dir.
      // -d: logs the bind (see launch) and each command, which a test may check for STARTTLS.
      const args = ['-m', 'aiosmtpd', '-n', '-d', '-l', `127.0.0.1:${port}`, ...tls];
      args.push('-c', 'aiosmtpd.handlers.Mailbox', maildir);
      return launch(python, args, logFile, port);
    });
    const running = new RunningServer(dir, launched);

    const messages = async () => readMaildir(maildir);
    return {
      url: `smtp://127.0.0.1:${port}`,
      host: '127.0.0.1',
      port,
      dir,
      messages,
      async waitForMessages(count, timeoutMs = 5_000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const found = await messages();
          if (found.length >= count) return found;
          if (Date.now() > deadline) {
            throw new Error(
              `aiosmtpd stored ${found.length} message(s), not ${count}, within ${timeoutMs} ms; ` +
                `its stderr ends:\n${logTail(logFile)}`,
            );
          }
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
      },
      log: () => readLog(logFile),
      stop: () => running.stop(),
    };
  } catch (error) {
    discardServerDir(dir, maildir);
    throw error;
  }
}

// Maildir names are `<seconds>.M<micros>P<pid>Q<count>.<host>`; Q counts the deliveries of one
// process, so it orders messages even within one second.
function deliveryOrder(name: string): [number, number] {
  const match = /^(\d+)\.M\d+P\d+Q(\d+)\./.exec(name);
  return match ? [Number(match[1]), Number(match[2])] : [Number.POSITIVE_INFINITY, 0];
}

function readMaildir(maildir: string): ParsedMail[] {
  const files: { name: string; path: string }[] = [];
  for (const sub of ['new', 'cur']) {
    let names: string[];
    try {
      names = readdirSync(join(maildir, sub));
    } catch {
      continue;
    }
    for (const name of names) files.push({ name, path: join(maildir, sub, name) });
  }
  files.sort((a, b) => {
    const [sa, qa] = deliveryOrder(a.name);
    const [sb, qb] = deliveryOrder(b.name);
    return sa - sb || qa - qb || a.name.localeCompare(b.name);
  });
  return files.map(({ name, path }) => ({ ...parseMail(readFileSync(path).toString('latin1')), file: name }));
}

interface Entity {
  headers: Record<string, string[]>;
  body: string;
}

function splitEntity(raw: string): Entity {
  const text = raw.replace(/\r\n/g, '\n');
  // A part may have no headers at all: then the blank line comes first.
  const end = text.startsWith('\n') ? 0 : text.indexOf('\n\n');
  const head = end < 0 ? text : text.slice(0, end);
  const body = end < 0 ? '' : text.slice(end === 0 ? 1 : end + 2);
  const headers: Record<string, string[]> = {};
  for (const line of head.replace(/\n(?=[ \t])/g, '').split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    // Header bytes beyond ASCII only come with SMTPUTF8, and then they are UTF-8.
    const value = decodeWords(Buffer.from(line.slice(colon + 1).trim(), 'latin1').toString('utf8'));
    const values = headers[name] ?? [];
    values.push(value);
    headers[name] = values;
  }
  return { headers, body };
}

/** Splits `type/subtype; a=b; c="d"` into the lower-case type and its parameters. */
function contentType(value: string | undefined): { type: string; params: Record<string, string> } {
  if (value === undefined) return { type: 'text/plain', params: {} };
  const semicolon = value.indexOf(';');
  const type = (semicolon < 0 ? value : value.slice(0, semicolon)).trim().toLowerCase();
  const params: Record<string, string> = {};
  const param = /;\s*([^=\s;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)/g;
  for (const match of value.matchAll(param)) {
    const raw = match[2]!;
    params[match[1]!.toLowerCase()] = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
  }
  return { type, params };
}

function decodeCharset(bytes: Buffer, charset: string): string {
  return new TextDecoder(charset.split('*')[0] || 'utf-8').decode(bytes);
}

const ENCODED_WORD = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/;
const WORD_RUN = new RegExp(`${ENCODED_WORD.source}(?:\\s+${ENCODED_WORD.source})*`, 'g');

/** RFC 2047: adjacent words are joined (the space between them is not text) before decoding, since a
 * character may be split across two of them. */
function decodeWords(value: string): string {
  return value.replace(WORD_RUN, (run) => {
    let out = '';
    let pending: { charset: string; bytes: Buffer[] } | undefined;
    const flush = () => {
      if (pending) out += decodeCharset(Buffer.concat(pending.bytes), pending.charset);
      pending = undefined;
    };
    for (const [, charset, encoding, text] of run.matchAll(new RegExp(ENCODED_WORD.source, 'g'))) {
      const bytes =
        encoding!.toUpperCase() === 'B'
          ? Buffer.from(text!, 'base64')
          : Buffer.from(
              text!
                .replace(/_/g, ' ')
                .replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) =>
                  String.fromCharCode(Number.parseInt(hex, 16)),
                ),
              'latin1',
            );
      const name = charset!.toLowerCase();
      if (pending?.charset !== name) flush();
      pending ??= { charset: name, bytes: [] };
      pending.bytes.push(bytes);
    }
    flush();
    return out;
  });
}

function decodeBody(body: string, transferEncoding: string | undefined, charset: string): string {
  const encoding = (transferEncoding ?? '7bit').trim().toLowerCase();
  let bytes: Buffer;
  if (encoding === 'quoted-printable') {
    const unwrapped = body
      .replace(/=[ \t]*\n/g, '')
      .replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
    bytes = Buffer.from(unwrapped, 'latin1');
  } else if (encoding === 'base64') {
    bytes = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  } else {
    bytes = Buffer.from(body, 'latin1');
  }
  return decodeCharset(bytes, charset);
}

/** The first text/plain part of an entity, decoded; undefined when it has none. */
function plainText(entity: Entity): string | undefined {
  const { type, params } = contentType(entity.headers['content-type']?.[0]);
  if (type.startsWith('multipart/')) {
    const boundary = params.boundary;
    if (!boundary) return undefined;
    const delimiter = `--${boundary}`;
    const lines = entity.body.split('\n');
    let part: string[] | undefined;
    for (const line of lines) {
      const trimmed = line.trimEnd();
      if (trimmed === delimiter || trimmed === `${delimiter}--`) {
        if (part) {
          const found = plainText(splitEntity(part.join('\n')));
          if (found !== undefined) return found;
        }
        if (trimmed !== delimiter) return undefined;
        part = [];
      } else {
        part?.push(line);
      }
    }
    return undefined;
  }
  if (type !== 'text/plain') return undefined;
  return decodeBody(
    entity.body,
    entity.headers['content-transfer-encoding']?.[0],
    params.charset ?? 'us-ascii',
  );
}

/**
 * Parses one stored message: enough MIME for what a notifier sends (headers, encoded-words,
 * quoted-printable or base64 text, multipart), not a general mail parser.
 */
export function parseMail(raw: string): ParsedMail {
  const entity = splitEntity(raw);
  const first = (name: string) => entity.headers[name]?.[0];
  const rcptTo = first('x-rcptto');
  return {
    file: '',
    from: first('from'),
    to: first('to'),
    subject: first('subject'),
    text: plainText(entity) ?? '',
    headers: entity.headers,
    // Added by aiosmtpd's Mailbox handler: the envelope, which the headers need not match.
    envelope: {
      mailFrom: first('x-mailfrom'),
      rcptTo: rcptTo ? rcptTo.split(',').map((address) => address.trim()) : [],
    },
    raw,
  };
}
