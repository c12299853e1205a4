/**
 * Request/response over the IPC channel of a forked child: the orchestrator drives
 * receivers and senders step by step (start, trial, read counters) and needs each answer.
 */
import { type ChildProcess, fork } from 'node:child_process';

type Body = Record<string, unknown>;
type Handler = (body: Body) => unknown;

interface RequestMessage {
  id: number;
  type: string;
  body: Body;
}

interface ReplyMessage {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

const READY = 'ready';

/** Every child still running, so that the orchestrator can kill them all whatever failed. */
const running = new Set<BenchChild>();

export class BenchChild {
  readonly name: string;
  readonly #process: ChildProcess;
  readonly #pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  #nextId = 1;
  #exited = false;

  private constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.#process = child;
    child.on('message', (message: ReplyMessage) => {
      const waiter = this.#pending.get(message.id);
      if (!waiter) return;
      this.#pending.delete(message.id);
      if (message.ok) waiter.resolve(message.value);
      else waiter.reject(new Error(`${name}: ${message.error}`));
    });
    child.on('exit', (code, signal) => {
      this.#exited = true;
      running.delete(this);
      for (const waiter of this.#pending.values()) {
        waiter.reject(new Error(`${name} exited (code ${code}, signal ${signal}) before answering`));
      }
      this.#pending.clear();
    });
  }

  /** Forks the compiled script and waits until it listens for requests (messages sent earlier could be lost). */
  static async start(name: string, script: URL, execArgv: string[] = []): Promise<BenchChild> {
    const child = fork(script, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const handle = new BenchChild(name, child);
    running.add(handle);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not start within 20 s`)), 20_000);
      child.once('message', (message) => {
        clearTimeout(timer);
        if (message === READY) resolve();
        else reject(new Error(`${name} sent ${JSON.stringify(message)} instead of ready`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited with code ${code} while starting`));
      });
    });
    return handle;
  }

  request<T>(type: string, body: Body = {}, timeoutMs = 60_000): Promise<T> {
    if (this.#exited) return Promise.reject(new Error(`${this.name} has exited`));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.name} did not answer "${type}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.#process.send({ id, type, body } satisfies RequestMessage);
    });
  }

  /** Kills this child (by its pid) unless it already exited. */
  kill(): void {
    if (!this.#exited) this.#process.kill('SIGKILL');
    running.delete(this);
  }
}

export function killAllChildren(): void {
  for (const child of [...running]) child.kill();
}

/**
 * Child side: answers the parent's requests with `handlers`, and exits when the parent
 * goes away, so that no child outlives a crashed or interrupted orchestrator.
 */
export function serveParent(handlers: Record<string, Handler>): void {
  const reply = (message: ReplyMessage) => process.send?.(message);
  process.on('message', async (message: RequestMessage) => {
    const handler = handlers[message.type];
    try {
      if (!handler) throw new Error(`unknown request "${message.type}"`);
      reply({ id: message.id, ok: true, value: await handler(message.body) });
    } catch (error) {
      reply({ id: message.id, ok: false, error: error instanceof Error ? error.stack : String(error) });
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.(READY);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
