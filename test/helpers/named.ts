import { execFile } from 'node:child_process';
import { accessSync, constants, readFileSync, writeFileSync } from 'node:fs';
import { basename, delimiter, join } from 'node:path';
import {
  discardServerDir,
  launchOnFreePort,
  makeServerDir,
  READY_TIMEOUT_MS,
  RunningServer,
  ServerFailed,
  type ServerProcess,
  spawnServer,
  terminate,
  waitUntilReady,
} from './server-process.js';

export interface TsigKey {
  name: string;
  algorithm: string;
  /** Base64, as tsig-keygen printed it. */
  secret: string;
}

export interface NamedServer {
  host: '127.0.0.1';
  port: number;
  zones: string[];
  /** The key every zone accepts updates from. */
  tsig: TsigKey;
  /** tsig-keygen's output for `tsig`, usable with `nsupdate -k`. */
  keyFile: string;
  /** A valid key named `wrong-key` that named knows but lets update nothing, so refusals can be tested. */
  wrongTsig: TsigKey;
  wrongKeyFile: string;
  dir: string;
  /** Answers from `dig +short`; empty when the name has none. Rejects if named did not answer at all. */
  dig(name: string, type: 'A' | 'AAAA' | 'SOA'): Promise<string[]>;
  stop(): Promise<void>;
  /** Stops the server but keeps its files, for an outage that `restart()` ends. */
  halt(): Promise<void>;
  /** Stops (if running) and starts again on the same port and config; the journal, and so every update, survives. */
  restart(): Promise<void>;
}

export interface StartNamedOptions {
  zones?: string[];
  tsigAlgorithm?: string;
}

export const TSIG_KEY_NAME = 'hbd-update';
export const WRONG_KEY_NAME = 'wrong-key';

// Debian puts named and tsig-keygen in /usr/sbin, which is not on an ordinary user's PATH (CI runners).
const SBIN_DIRS = ['/usr/sbin', '/usr/local/sbin', '/sbin'];

/** The absolute path of a BIND tool, or a failure that says how to get it: DNS tests never skip. */
export function findBindTool(name: 'named' | 'nsupdate' | 'dig' | 'tsig-keygen'): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...SBIN_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  throw new Error(
    `BIND's ${name} was not found (looked in ${dirs.join(', ')}). hbd's DNS tests run against a real ` +
      'BIND 9 and fail without it: run scripts/install-test-deps.sh (or apt-get install bind9 bind9-dnsutils).',
  );
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], input?: string, timeoutMs = 10_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') {
        reject(new Error(`${file} ${args.join(' ')}: ${error.message}\n${stderr}`));
        return;
      }
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
    // A program may exit before it reads its input (dig, a refused nsupdate): its exit code
    // and stderr tell what happened, and the broken pipe must not surface as a crash.
    child.stdin?.on('error', () => {});
    child.stdin?.end(input ?? '');
  });
}

/** Runs an nsupdate script (one command a line; `send` is added if missing) signed with `keyFile`. */
export function nsupdate(keyFile: string, script: string | string[]): Promise<Run> {
  const lines = typeof script === 'string' ? script.split('\n') : [...script];
  if (!lines.some((line) => line.trim() === 'send')) lines.push('send');
  return run(findBindTool('nsupdate'), ['-k', keyFile], `${lines.join('\n')}\n`);
}

async function tsigKeygen(algorithm: string, name: string, file: string): Promise<TsigKey> {
  const result = await run(findBindTool('tsig-keygen'), ['-a', algorithm, name]);
  if (result.code !== 0) throw new Error(`tsig-keygen -a ${algorithm} ${name} failed:\n${result.stderr}`);
  const secret = /secret\s+"([^"]+)"/.exec(result.stdout)?.[1];
  const printedAlgorithm = /algorithm\s+([^;\s]+)\s*;/.exec(result.stdout)?.[1];
  if (!secret || !printedAlgorithm) throw new Error(`cannot parse tsig-keygen output:\n${result.stdout}`);
  writeFileSync(file, result.stdout);
  return { name, algorithm: printedAlgorithm, secret };
}

function zoneFile(zone: string): string {
  return [
    '$TTL 300',
    `@ IN SOA ns1.${zone}. hostmaster.${zone}. 1 3600 600 86400 60`,
    `@ IN NS ns1.${zone}.`,
    'ns1 IN A 127.0.0.1',
    '',
  ].join('\n');
}

function namedConf(
  dir: string,
  serverId: string,
  port: number,
  zones: string[],
  keyFile: string,
  wrongKeyFile: string,
): string {
  const zoneBlocks = zones.map(
    (zone) =>
      `zone "${zone}" {\n  type primary;\n  file "${join(dir, `${zone}.db`)}";\n` +
      `  allow-update { key "${TSIG_KEY_NAME}"; };\n};`,
  );
  return [
    `include "${keyFile}";`,
    `include "${wrongKeyFile}";`,
    'options {',
    `  directory "${dir}";`,
    `  pid-file "${join(dir, 'named.pid')}";`,
    `  managed-keys-directory "${dir}";`,
    // Answered to `id.server CH TXT`: proves the server on the port is this one, not a stranger that
    // took the port between freePort() and named's bind and happens to serve the same zone.
    `  server-id "${serverId}";`,
    '  session-keyfile none;',
    `  listen-on port ${port} { 127.0.0.1; };`,
    // By default named binds with SO_REUSEPORT, so a second named (this harness in another worker,
    // racing for the same port) would share it silently and the kernel would split queries between
    // the two. Without it the TCP bind fails and says so in the log; see launch().
    '  reuseport no;',
    '  listen-on-v6 { none; };',
    '  recursion no;',
    '  dnssec-validation no;',
    // The zones' NS is 127.0.0.1, so after each update named would NOTIFY 127.0.0.1:53 — whatever
    // happens to run there on this machine.
    '  notify no;',
    '};',
    // No rndc channel: it would read /etc/bind/rndc.key and listen on 953, shared by every instance.
    'controls { };',
    ...zoneBlocks,
    '',
  ].join('\n');
}

function logTail(logFile: string, lines = 25): string {
  let text: string;
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return '(no named log)';
  }
  const tail = text.trimEnd().split('\n').slice(-lines).join('\n');
  return `${tail}${appArmorHint(text)}`;
}

// Ubuntu's AppArmor profile for /usr/sbin/named only lets it read /etc/bind and write /var/lib/bind,
// /var/cache/bind: a config in a temp dir is then "permission denied" with nothing else to go on.
function appArmorHint(log: string): string {
  if (!/permission denied/i.test(log)) return '';
  try {
    if (readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() !== 'Y') return '';
  } catch {
    return '';
  }
  return (
    '\n(AppArmor is enabled and probably confines named to /etc/bind and /var/{lib,cache}/bind; ' +
    'for tests, `sudo aa-complain /usr/sbin/named` or `sudo apparmor_parser -R /etc/apparmor.d/usr.sbin.named`)'
  );
}

async function digShort(
  port: number,
  name: string,
  type: string,
  timeSeconds: number,
  tries: number,
  klass = 'IN',
): Promise<Run> {
  return run(findBindTool('dig'), [
    '@127.0.0.1',
    '-p',
    String(port),
    name,
    klass,
    type,
    '+short',
    `+time=${timeSeconds}`,
    `+tries=${tries}`,
  ]);
}

function answers(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith(';'));
}

/** Starts named and resolves once it answers as itself and every zone answers its SOA, over real DNS. */
async function launch(
  named: string,
  conf: string,
  logFile: string,
  port: number,
  serverId: string,
  zones: string[],
): Promise<ServerProcess> {
  const server = spawnServer(named, ['-g', '-c', conf], logFile, 'append');
  let identified = false;
  const pending = new Set(zones);
  // Whoever holds a port named failed to bind may never answer: stop waiting for dig when named dies.
  const orExit = <T>(query: Promise<T>) => Promise.race([query, server.exited.then(() => undefined)]);
  await waitUntilReady(server, {
    async ready() {
      if (!identified) {
        const id = await orExit(digShort(port, 'id.server', 'TXT', 1, 1, 'CH'));
        identified = id?.code === 0 && answers(id.stdout)[0] === `"${serverId}"`;
      }
      for (const zone of identified ? pending : []) {
        const result = await orExit(digShort(port, zone, 'SOA', 1, 1));
        if (result?.code === 0 && answers(result.stdout).length > 0) pending.delete(zone);
      }
      return identified && pending.size === 0;
    },
    exitedEarly(how) {
      const log = logTail(logFile);
      return new ServerFailed(
        `named exited (${how}) before it served ${[...pending].join(', ')}; its log ends:\n${log}`,
        /unable to listen on any configured interfaces|address in use/i.test(log),
      );
    },
    timedOut() {
      const missing = identified ? `SOA queries for ${[...pending].join(', ')}` : 'id.server CH TXT';
      return new Error(
        `named did not answer ${missing} on 127.0.0.1:${port} within ${READY_TIMEOUT_MS} ms; ` +
          `its log ends:\n${logTail(logFile)}`,
      );
    },
  });
  // SO_REUSEADDR still lets a second named share a UDP port, and named only logs the failed TCP bind
  // and carries on: such a server would answer our probes yet lose queries to the other one.
  const thisRun = readFileSync(logFile, 'utf8').slice(server.logStart);
  if (/address in use/i.test(thisRun)) {
    await terminate(server);
    throw new ServerFailed(`127.0.0.1:${port} is partly taken; named logged:\n${logTail(logFile)}`, true);
  }
  return server;
}

/** Starts a real BIND 9 named on a free 127.0.0.1 port, authoritative for `zones`, in a fresh temp dir. */
export async function startNamed(options: StartNamedOptions = {}): Promise<NamedServer> {
  const zones = options.zones ?? ['dyn.example.test'];
  const algorithm = options.tsigAlgorithm ?? 'hmac-sha256';
  // Fail on a missing binary before creating anything.
  const named = findBindTool('named');
  findBindTool('dig');

  const dir = makeServerDir('hbd-named-');
  const serverId = basename(dir);
  const conf = join(dir, 'named.conf');
  try {
    const keyFile = join(dir, `${TSIG_KEY_NAME}.key`);
    const wrongKeyFile = join(dir, `${WRONG_KEY_NAME}.key`);
    const tsig = await tsigKeygen(algorithm, TSIG_KEY_NAME, keyFile);
    const wrongTsig = await tsigKeygen(algorithm, WRONG_KEY_NAME, wrongKeyFile);
    for (const zone of zones) writeFileSync(join(dir, `${zone}.db`), zoneFile(zone));
    const logFile = join(dir, 'named.log');

    const { port, launched } = await launchOnFreePort(
      (port) => {
        writeFileSync(conf, namedConf(dir, serverId, port, zones, keyFile, wrongKeyFile));
        return launch(named, conf, logFile, port, serverId, zones);
      },
      { udp: true },
    );
    const running = new RunningServer(dir, launched);
    const server: NamedServer = {
      host: '127.0.0.1',
      port,
      zones: [...zones],
      tsig,
      keyFile,
      wrongTsig,
      wrongKeyFile,
      dir,
      async dig(name, type) {
        const result = await digShort(port, name, type, 2, 2);
        if (result.code !== 0) {
          throw new Error(
            `dig ${name} ${type} @127.0.0.1 -p ${port} failed (exit ${result.code}):\n${result.stdout}`,
          );
        }
        return answers(result.stdout);
      },
      stop: () => running.stop(),
      halt: () => running.halt(),
      restart: () => running.restart(() => launch(named, conf, logFile, port, serverId, zones)),
    };
    return server;
  } catch (error) {
    discardServerDir(dir, conf);
    throw error;
  }
}
