import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach } from 'vitest';

/** The built `hbd` binary, as `npx hbd` runs it. */
export const HBD = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runHbd(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [HBD, ...args],
      { env: { ...process.env, ...env }, timeout: 15_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export interface ServingHbd {
  process: ChildProcess;
  udpPort: number;
  httpUrl: string;
  /** Every JSON log line so far. */
  logs: Record<string, unknown>[];
  waitForLog(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
}

/** Starts `hbd <args>` with JSON logs and waits until it listens. The config must set `logfmt: json`. */
export async function serveHbd(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServingHbd> {
  const child = spawn(process.execPath, [HBD, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let pending = '';
  child.stderr.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line, unparsed: true });
      }
    }
    for (const wake of waiters) wake();
  });
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const waitForLog = (match: (line: Record<string, unknown>) => boolean, timeoutMs = 10_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const check = () => {
        const found = logs.find(match);
        if (!found) return;
        cleanup();
        resolve(found);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(`no matching log line in ${timeoutMs} ms; got:\n${logs.map((l) => l.msg).join('\n')}`),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  const listening = await waitForLog((line) => typeof line.udp === 'string' && typeof line.http === 'string');
  return {
    process: child,
    udpPort: Number(String(listening.udp).split(':').at(-1)),
    httpUrl: String(listening.http),
    logs,
    waitForLog,
    exited,
  };
}

export interface HbdSandbox {
  /** A fresh temp dir for each test, removed after it. */
  readonly dir: string;
  /** serveHbd, killed after the test if it still runs then. */
  serve(args: string[], env?: NodeJS.ProcessEnv): Promise<ServingHbd>;
}

/** Registers the hooks, so call it where beforeEach may be called: at the top of a file or a describe. */
export function useHbdSandbox(dirPrefix: string): HbdSandbox {
  let dir: string | undefined;
  const served: ServingHbd[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), dirPrefix));
  });
  afterEach(async () => {
    for (const hbd of served.splice(0)) {
      if (hbd.process.exitCode !== null) continue;
      hbd.process.kill('SIGKILL');
      await hbd.exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });
  return {
    get dir() {
      if (dir === undefined) throw new Error('the sandbox dir exists only while a test runs');
      return dir;
    },
    async serve(args, env) {
      const hbd = await serveHbd(args, env);
      served.push(hbd);
      return hbd;
    },
  };
}
