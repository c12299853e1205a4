import type { Bus } from '../lib/bus.js';
import type { EventStore } from '../store/store.js';

/** How often a follower reads the events the leader stored. */
export const EVENTS_TAIL_MS = 250;
/** At most this many a read; a follower that fell further behind tells its live feed only the newest. */
const TAIL_LIMIT = 1000;

/**
 * A follower's window on the history: the leader stores the events, and each follower reads
 * the new ones and publishes them on its own bus, with the ids the store gave them, so that its
 * live feed and its log tell the same story as the leader's. The leader publishes its own as
 * it stores them; the tail only follows their ids then.
 */
export class EventsTail {
  readonly #events: Pick<EventStore, 'list'>;
  readonly #bus: Bus;
  readonly #onError: (error: unknown) => void;
  #lastId = 0;
  #timer: NodeJS.Timeout | undefined;
  #reading: Promise<void> | undefined;
  #following = false;
  readonly #unsubscribe: () => void;

  constructor(options: { events: Pick<EventStore, 'list'>; bus: Bus; onError: (error: unknown) => void }) {
    this.#events = options.events;
    this.#bus = options.bus;
    this.#onError = options.onError;
    this.#unsubscribe = this.#bus.on('event', (event) => {
      if (event.id > this.#lastId) this.#lastId = event.id;
    });
  }

  /** Starts from the newest stored event: what came before is history, not news. */
  async start(): Promise<void> {
    const [newest] = await this.#events.list({ limit: 1 });
    if (newest && newest.id > this.#lastId) this.#lastId = newest.id;
  }

  /** This node follows: read what the leader stores. */
  follow(): void {
    if (this.#following) return;
    this.#following = true;
    this.#schedule();
  }

  /** This node leads: it publishes its own events. Resolves once a read under way is done. */
  async lead(): Promise<void> {
    this.#following = false;
    clearTimeout(this.#timer);
    await this.#reading;
  }

  async stop(): Promise<void> {
    await this.lead();
    this.#unsubscribe();
  }

  #schedule(): void {
    if (!this.#following) return;
    this.#timer = setTimeout(() => {
      this.#reading = this.#read().finally(() => {
        this.#reading = undefined;
        this.#schedule();
      });
    }, EVENTS_TAIL_MS);
    this.#timer.unref();
  }

  async #read(): Promise<void> {
    try {
      const events = await this.#events.list({ afterId: this.#lastId, limit: TAIL_LIMIT });
      // Led meanwhile: this node publishes its own now.
      if (!this.#following) return;
      for (const event of events.reverse()) {
        if (event.id > this.#lastId) this.#bus.emit('event', event);
      }
    } catch (error) {
      this.#onError(error);
    }
  }
}
