import type { HeartbeatNotice, HostEvent } from '../model/events.js';
import type { Trigger } from '../model/outbox.js';

/** What flows through hbd: every consumer (API, WebSocket, DNS, notifications) subscribes here. */
export interface BusTopics {
  heartbeat: HeartbeatNotice;
  event: HostEvent;
  /** The notification triggers stored with the events just published (after them). */
  triggers: readonly Trigger[];
}

type Listener<T> = (payload: T) => void;

/**
 * A synchronous, typed publish/subscribe hub. A subscriber that throws is reported
 * through `onListenerError` and never stops delivery to the others or the ingest path.
 */
export class Bus {
  readonly #listeners: { [K in keyof BusTopics]: Set<Listener<BusTopics[K]>> } = {
    heartbeat: new Set(),
    event: new Set(),
    triggers: new Set(),
  };
  readonly #onListenerError: (topic: keyof BusTopics, error: unknown) => void;

  constructor(onListenerError: (topic: keyof BusTopics, error: unknown) => void = () => {}) {
    this.#onListenerError = onListenerError;
  }

  on<K extends keyof BusTopics>(topic: K, listener: Listener<BusTopics[K]>): () => void {
    const set = this.#listeners[topic] as Set<Listener<BusTopics[K]>>;
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Whether anyone listens: lets the hot path skip building a payload nobody reads. */
  has(topic: keyof BusTopics): boolean {
    return this.#listeners[topic].size > 0;
  }

  emit<K extends keyof BusTopics>(topic: K, payload: BusTopics[K]): void {
    for (const listener of this.#listeners[topic] as Set<Listener<BusTopics[K]>>) {
      try {
        listener(payload);
      } catch (error) {
        this.#onListenerError(topic, error);
      }
    }
  }
}
