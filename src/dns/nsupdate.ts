/**
 * The nsupdate update method: writes an nsupdate script and lets BIND's own client sign and send it.
 * Everything that varies (names, addresses, the TSIG secret) goes on stdin, never argv, so a
 * hostile heartbeat cannot add options and the secret never shows in `ps`.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import type {
  DnsServer,
  DnsUpdateErrorCode,
  DnsUpdater,
  RecordChange,
  TsigAlgorithm,
  TsigKey,
  UpdateRequest,
} from './update-types.js';
import { DnsUpdateError, TSIG_ALGORITHMS } from './update-types.js';
import { checkChange, invalid, normalizeName } from './validate.js';

export interface NsupdateOptions {
  /** Default /usr/bin/nsupdate. */
  binary?: string;
  server: DnsServer;
  /** Sent on stdin as a `key` line. */
  key: TsigKey | null;
  /** A tsig-keygen file passed as `-k`; use instead of `key`, not with it. */
  keyFile?: string | null;
  /** Whole-run deadline; nsupdate is killed when it passes. */
  timeoutMs?: number;
}

const ALGORITHMS: ReadonlySet<TsigAlgorithm> = new Set(TSIG_ALGORITHMS);
// Strict base64: Buffer.from(…, 'base64') skips junk, so it cannot tell us the secret is one token.
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
// Enough for any diagnostic nsupdate prints; a runaway child must not grow our memory.
const STDERR_LIMIT = 64 * 1024;

/** One `update` line set per change, after the same checks as the native method. */
function changeLines(change: RecordChange, zone: string): string[] {
  const { name, type, address, ttl } = checkChange(change, zone);
  const lines = [`update delete ${name}. ${type}`];
  if (address !== null) lines.push(`update add ${name}. ${ttl} ${type} ${address}`);
  return lines;
}

function checkServer(server: DnsServer): void {
  const { host, port } = server;
  // The host goes into the script too: an IP literal (no zone id) or a plain DNS name, nothing else.
  if (typeof host !== 'string' || isIP(host) === 0 || host.includes('%')) normalizeName(host, 'server host');
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw invalid(`server port ${String(port)} is not in 1..65535`);
}

function keyLine(key: TsigKey): string {
  const name = normalizeName(key.name, 'TSIG key name');
  if (!ALGORITHMS.has(key.algorithm)) throw invalid(`unsupported TSIG algorithm ${String(key.algorithm)}`);
  if (typeof key.secret !== 'string' || !BASE64.test(key.secret))
    throw invalid(`TSIG key ${name} has an empty or non-base64 secret`);
  return `key ${key.algorithm}:${name} ${key.secret}`;
}

// Checked because nsupdate, when it cannot read -k, says so on stderr and then sends the update
// unsigned anyway: that would surface as REFUSED, hiding the real problem.
async function checkKeyFile(file: string): Promise<void> {
  try {
    const info = await stat(file);
    if (!info.isFile()) throw invalid(`TSIG key file ${file} is not a regular file`);
    await access(file, constants.R_OK);
  } catch (err) {
    if (err instanceof DnsUpdateError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw invalid(`TSIG key file ${file} cannot be read (${code}); refusing to send an unsigned update`);
  }
}

// Order matters: BIND answers a bad signature with rcode NOTAUTH and the TSIG error in brackets,
// which nsupdate prints as "update failed: NOTAUTH(BADSIG)".
const STDERR_PATTERNS: readonly [RegExp, DnsUpdateErrorCode][] = [
  [/BADSIG|tsig verify failure/, 'BADSIG'],
  [/BADKEY/, 'BADKEY'],
  [/BADTIME/, 'BADTIME'],
  [/timed out/i, 'TIMEOUT'],
  [
    /communications? error|connection refused|could not talk|network unreachable|host unreachable/i,
    'NETWORK',
  ],
  [/\bREFUSED\b/, 'REFUSED'],
  [/\bNOTAUTH\b/, 'NOTAUTH'],
  [/\bNOTZONE\b/, 'NOTZONE'],
  [/\bSERVFAIL\b/, 'SERVFAIL'],
  [/\bFORMERR\b/, 'FORMERR'],
  [/\bYXDOMAIN\b/, 'YXDOMAIN'],
  [/\bNXRRSET\b/, 'NXRRSET'],
];

/** nsupdate's own words, shortened: the line that decided the code, else the first line. */
export function classifyNsupdateFailure(exitCode: number | null, stderr: string): DnsUpdateError {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  for (const [pattern, code] of STDERR_PATTERNS) {
    // Last match: nsupdate's final "update failed: …" line says more than earlier chatter.
    const line = lines.findLast((l) => pattern.test(l));
    if (line !== undefined) return new DnsUpdateError(code, `nsupdate: ${line.slice(0, 200)}`);
  }
  const first = lines[0]?.slice(0, 200) ?? '(no output)';
  return new DnsUpdateError('OTHER', `nsupdate exited with code ${String(exitCode)}: ${first}`);
}

interface RunResult {
  exitCode: number | null;
  stderr: string;
}

function runNsupdate(
  binary: string,
  args: string[],
  script: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let done = false;
    const finish = (err: unknown, result?: RunResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (result === undefined) {
        // Killed for a timeout or abort, or it never started; either way it must not linger.
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        reject(err);
      } else resolve(result);
    };
    const timer = setTimeout(() => {
      finish(new DnsUpdateError('TIMEOUT', `nsupdate did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    const onAbort = () => finish(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });

    child.on('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ENOENT' ? 'not found' : (err.code ?? err.message);
      finish(invalid(`cannot run nsupdate binary ${binary}: ${why}`));
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < STDERR_LIMIT) stderr += chunk;
    });
    // Drained so a chatty child never blocks on a full pipe.
    child.stdout.resume();
    // EPIPE when nsupdate dies before reading its script; its exit code and stderr tell why.
    child.stdin.on('error', () => {});
    child.on('close', (exitCode) => finish(null, { exitCode, stderr }));
    child.stdin.end(script);
  });
}

export function createNsupdateUpdater(options: NsupdateOptions): DnsUpdater {
  const binary = options.binary ?? '/usr/bin/nsupdate';
  const { server, key } = options;
  const keyFile = options.keyFile ?? null;
  const timeoutMs = options.timeoutMs ?? 5000;
  // Fail at configuration time rather than on every update.
  checkServer(server);
  if (key !== null && keyFile !== null) throw invalid('give a TSIG key or a key file, not both');
  if (keyFile !== null && (typeof keyFile !== 'string' || keyFile === ''))
    throw invalid('TSIG key file path is empty');
  const keyText = key === null ? null : keyLine(key);
  const args = keyFile === null ? [] : ['-k', keyFile];

  return {
    method: 'nsupdate',
    async update(request: UpdateRequest, signal?: AbortSignal): Promise<void> {
      signal?.throwIfAborted();
      const zone = normalizeName(request.zone, 'zone');
      const updates = request.changes.flatMap((c) => changeLines(c, zone));
      if (updates.length === 0) return;
      if (keyFile !== null) await checkKeyFile(keyFile);
      signal?.throwIfAborted();

      const script = [
        ...(keyText === null ? [] : [keyText]),
        `server ${server.host} ${server.port}`,
        `zone ${zone}.`,
        ...updates,
        'send',
        '',
      ].join('\n');
      const { exitCode, stderr } = await runNsupdate(binary, args, script, timeoutMs, signal);
      if (exitCode === 0) return;
      const error = classifyNsupdateFailure(exitCode, stderr);
      // nsupdate has no reason to echo the key line, but a secret in a log would be costly.
      if (key !== null && error.message.includes(key.secret)) {
        throw new DnsUpdateError(error.code, error.message.replaceAll(key.secret, '[secret]'));
      }
      throw error;
    },
  };
}
