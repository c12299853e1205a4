/**
 * Runs contrib/hbd-send.sh under real shells with real tools, each run with the PATH it
 * needs: symlinks in a temp dir stand for what a host has installed.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, it } from 'vitest';

export const SCRIPT = fileURLToPath(new URL('../../contrib/hbd-send.sh', import.meta.url));

/** The tools hbd-send.sh runs besides its transport, as on any Debian or Alpine host. */
export const BASE_TOOLS = [
  'cat',
  'date',
  'dd',
  'ls',
  'mktemp',
  'od',
  'openssl',
  'rm',
  'sed',
  'sleep',
  'tail',
  'tr',
  'uname',
  'wc',
];

/** The absolute path of a program on this machine's PATH, or undefined. */
export function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

function helpText(program: string, args: string[]): string {
  // A program that is not there answers with an error, and so no help.
  const result = spawnSync(program, args, {
    encoding: 'utf8',
    timeout: 5000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return `${result.stdout ?? ''}${result.stderr ?? ''}`;
}

/** OpenBSD's netcat: Debian installs it as nc.openbsd (and usually nc), Alpine as nc. */
export function openbsdNc(): string | undefined {
  const candidates = [which('nc.openbsd'), which('nc')];
  return candidates.find((path) => path !== undefined && helpText(path, ['-h']).includes('OpenBSD'));
}

/** Whether this BusyBox's nc sends UDP (built with NC_110_COMPAT, as Alpine's is; Debian's is not). */
export function busyboxNcHasUdp(busybox: string): boolean {
  return /^\s*-u\s/m.test(helpText(busybox, ['nc', '--help']));
}

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** A dir of symlinks (name → target) to put on PATH. */
export function binDir(links: Record<string, string>): string {
  const dir = tempDir('hbd-send-bin-');
  for (const [name, target] of Object.entries(links)) symlinkSync(target, join(dir, name));
  return dir;
}

/** Links to this machine's own copies of the base tools. */
export function systemBaseTools(): Record<string, string> {
  const links: Record<string, string> = {};
  for (const tool of BASE_TOOLS) {
    const path = which(tool);
    if (path === undefined) throw new Error(`${tool} is not installed`);
    links[tool] = path;
  }
  return links;
}

/** Links making every base tool but openssl BusyBox's, as on Alpine (its date has no %N). */
export function busyboxBaseTools(busybox: string): Record<string, string> {
  const links: Record<string, string> = {};
  for (const tool of BASE_TOOLS) if (tool !== 'openssl') links[tool] = busybox;
  const openssl = which('openssl');
  if (openssl === undefined) throw new Error('openssl is not installed');
  links.openssl = openssl;
  return links;
}

/** A file with the secret and one newline, readable by its owner only. */
export function writeKeyFile(secret: string, mode = 0o600): string {
  const path = join(tempDir('hbd-send-key-'), 'key');
  writeFileSync(path, `${secret}\n`, { mode });
  return path;
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningScript {
  /** The shell running the script: signals go to it, not to a wrapper. */
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  finished: Promise<Finished>;
}

const running = new Set<ChildProcess>();
afterEach(() => {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
});

/** Starts `shell… hbd-send.sh args…` with PATH set to `path` (default: this machine's). */
export function startScript(shell: string[], args: string[], path?: string): RunningScript {
  const [program, ...shellArgs] = shell;
  if (program === undefined) throw new Error('no shell given');
  const env = { ...process.env, PATH: path ?? process.env.PATH ?? '' };
  const child = spawn(program, [...shellArgs, SCRIPT, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const finished = new Promise<Finished>((resolve) => {
    child.on('close', (code, signal) => {
      running.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, stdout: () => stdout, stderr: () => stderr, finished };
}

/** Runs the script to its end; one that never ends is killed by the test's afterEach. */
export function runScript(shell: string[], args: string[], path?: string): Promise<Finished> {
  return startScript(shell, args, path).finished;
}

/**
 * `it` for a run that needs tools this machine may lack (`missing` says which, or is
 * undefined). Outside CI such a run is skipped, its title saying why; in CI it fails.
 */
export function itWithTools(
  missing: string | undefined,
  title: string,
  test: () => Promise<void>,
  timeoutMs?: number,
): void {
  if (missing !== undefined && !process.env.CI) {
    it.skip(`${title} (skipped: ${missing})`, test);
    return;
  }
  it(
    title,
    async () => {
      if (missing !== undefined) {
        throw new Error(`${missing}: CI runs every shell sender run (see scripts/install-test-deps.sh)`);
      }
      await test();
    },
    timeoutMs,
  );
}
