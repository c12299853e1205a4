import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { closeSync, fstatSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** How long a real server (named, aiosmtpd) gets from spawn until it answers. */
export const READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 3_000;
const PORT_ATTEMPTS = 3;

// Every server we start and its temp dir, so neither outlives the test process when a test forgets
// stop() or the worker is torn down early: a stray server would hold its port forever.
const running = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let reaperInstalled = false;

function installReaper(): void {
  if (reaperInstalled) return;
  reaperInstalled = true;
  const killAll = () => {
    for (const child of running) child.kill('SIGKILL');
    running.clear();
    for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
    liveDirs.clear();
  };
  process.on('exit', killAll);
  // 'exit' does not run when a signal ends the process, so catch those too; re-raise only when nobody
  // else listens, so the default (dying) still happens and other handlers keep their say.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

/** A fresh temp dir that is removed at exit, should the test never get to `removeServerDir`. */
export function makeServerDir(prefix: string): string {
  installReaper();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  liveDirs.add(dir);
  return dir;
}

export function removeServerDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  liveDirs.delete(dir);
}

/** After a start that failed half-way: kills its servers (those given `ownArg`) and removes its dir. */
export function discardServerDir(dir: string, ownArg: string): void {
  for (const child of running) {
    if (child.spawnargs.includes(ownArg)) child.kill('SIGKILL');
  }
  removeServerDir(dir);
}

function listenOnAnyPort(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
}

function udpBindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

/** A port free on 127.0.0.1 for TCP at the moment of asking, and with `udp` for UDP too (named needs both). */
export async function freePort(options: { udp?: boolean } = {}): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const server = net.createServer();
    const port = await listenOnAnyPort(server);
    const usable = !options.udp || (await udpBindable(port));
    await new Promise((resolve) => server.close(resolve));
    if (usable) return port;
  }
  throw new Error('no port on 127.0.0.1 was free for both TCP and UDP');
}

/** The server did not come up; `couldNotBind` when another port may do better. */
export class ServerFailed extends Error {
  readonly couldNotBind: boolean;
  constructor(message: string, couldNotBind: boolean) {
    super(message);
    this.couldNotBind = couldNotBind;
  }
}

/**
 * The port is free when asked but may be taken before the server binds it; the server then fails
 * with `couldNotBind`, and another port is tried.
 */
export async function launchOnFreePort<T>(
  launch: (port: number) => Promise<T>,
  portOptions: { udp?: boolean } = {},
): Promise<{ port: number; launched: T }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort(portOptions);
    try {
      return { port, launched: await launch(port) };
    } catch (error) {
      if (!(error instanceof ServerFailed && error.couldNotBind) || attempt >= PORT_ATTEMPTS) throw error;
    }
  }
}

export interface ServerProcess {
  child: ChildProcess;
  /** How it ended: `code N`, `signal S` or the spawn error. */
  exited: Promise<string>;
  hasExited(): boolean;
  /** Where this run's output starts in the log file. */
  logStart: number;
}

/**
 * Spawns a server whose stdout and stderr go to `logFile`. A file, not a pipe: such servers log for
 * as long as they run, and a pipe nobody drains would stall them (and keep the event loop busy).
 */
export function spawnServer(
  command: string,
  args: string[],
  logFile: string,
  logMode: 'truncate' | 'append',
): ServerProcess {
  const logFd = openSync(logFile, logMode === 'append' ? 'a' : 'w');
  const logStart = fstatSync(logFd).size;
  let child: ChildProcess;
  try {
    child = spawn(command, args, { stdio: ['ignore', logFd, logFd] });
  } finally {
    closeSync(logFd);
  }
  // unref: a test that forgets stop() must not keep its worker alive; the reaper kills the server on exit.
  child.unref();
  running.add(child);
  let hasExited = false;
  const exited = new Promise<string>((resolve) => {
    const done = (how: string) => {
      hasExited = true;
      running.delete(child);
      resolve(how);
    };
    child.once('exit', (code, signal) => done(signal ? `signal ${signal}` : `code ${code}`));
    child.once('error', (error) => done(error.message));
  });
  return { child, exited, hasExited: () => hasExited, logStart };
}

export async function terminate({ child, exited }: ServerProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** A helper's server across halts and restarts, until stop() removes its temp dir. */
export class RunningServer {
  readonly #dir: string;
  #current: ServerProcess | undefined;
  #stopped = false;

  constructor(dir: string, started: ServerProcess) {
    this.#dir = dir;
    this.#current = started;
  }

  /** Stops the process but keeps the dir, for an outage that restart() ends. */
  async halt(): Promise<void> {
    if (this.#current) await terminate(this.#current);
    this.#current = undefined;
  }

  async restart(launch: () => Promise<ServerProcess>): Promise<void> {
    if (this.#stopped) throw new Error('restart() after stop(): the temp dir is gone');
    await this.halt();
    this.#current = await launch();
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.halt();
    removeServerDir(this.#dir);
  }
}

export interface Readiness {
  /** Asked again and again until it says yes, so it must give up quickly on a server still starting. */
  ready(): Promise<boolean>;
  exitedEarly(how: string): Error;
  /** The server is terminated before this is called. */
  timedOut(): Error;
}

/** Resolves once the server is ready; throws when it exits first or does not get ready in time. */
export async function waitUntilReady(server: ServerProcess, readiness: Readiness): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (server.hasExited()) throw readiness.exitedEarly(await server.exited);
    if (Date.now() > deadline) {
      await terminate(server);
      throw readiness.timedOut();
    }
    if (await readiness.ready()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
