import type { Config } from '../config/schema.js';

/**
 * One part of the running daemon, as the lifecycle sees it. Each hook is optional: a part that
 * only needs closing has only `stop`.
 */
export interface Component {
  /** For log lines: "cannot stop the DNS publisher: …". */
  readonly name: string;
  start?(): Promise<void> | void;
  /** Must not throw for a part that never started: stop is also the way back from a failed start. */
  stop?(): Promise<void> | void;
  /**
   * Applies a new config. The keys a component applies are its `liveKeys`; a key no component
   * lists needs a restart, so a new key is never reported as applied without being applied.
   */
  reload?(config: Config): void;
  readonly liveKeys?: readonly (keyof Config)[];
}

/**
 * Starts the components in the order they were added and stops them in reverse, so each part
 * starts after what it needs and stops before it. A failed start takes the same way down: what
 * had started is stopped, in reverse, and the error is thrown on.
 */
export class Lifecycle {
  readonly #components: Component[] = [];
  readonly #started: Component[] = [];
  readonly #onStopError: (component: Component, error: unknown) => void;
  #stopping: Promise<void> | undefined;

  constructor(onStopError: (component: Component, error: unknown) => void) {
    this.#onStopError = onStopError;
  }

  /** Returns the component, so wiring reads as `const x = lifecycle.add(…)`. */
  add<T extends Component>(component: T): T {
    this.#components.push(component);
    return component;
  }

  /**
   * Registers a part that is already running (opened before the parts that need it could be
   * built, like the store): it is stopped like the others, in reverse order of starting.
   */
  adopt<T extends Component>(component: T): T {
    this.#components.push(component);
    this.#started.push(component);
    return component;
  }

  /** The keys some component applies on reload. */
  get liveKeys(): ReadonlySet<keyof Config> {
    return new Set(this.#components.flatMap((component) => component.liveKeys ?? []));
  }

  async start(): Promise<void> {
    for (const component of this.#components) {
      if (this.#started.includes(component)) continue;
      try {
        // Counted as started before it finishes: a half-started part gets its stop too.
        this.#started.push(component);
        await component.start?.();
      } catch (error) {
        await this.stop();
        throw error;
      }
    }
  }

  /** Stops what started, in reverse; a part that fails to stop is reported and the rest still stop. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      for (const component of [...this.#started].reverse()) {
        try {
          await component.stop?.();
        } catch (error) {
          this.#onStopError(component, error);
        }
      }
    })();
    return this.#stopping;
  }

  /** In start order: a part reloads after those it reads from. */
  reload(config: Config): void {
    for (const component of this.#components) component.reload?.(config);
  }
}
