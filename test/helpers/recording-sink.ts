import type { HostEvent } from '../../src/model/events.js';
import type { ChangeSink } from '../../src/state/monitor.js';

/** A ChangeSink that remembers what the monitor asked to store. */
export class RecordingSink implements ChangeSink {
  readonly events: Omit<HostEvent, 'id'>[] = [];
  readonly changed: { slot: number; urgent: boolean; content: boolean }[] = [];
  readonly forgotten: string[] = [];

  hostChanged(slot: number, urgent: boolean, content: boolean): void {
    this.changed.push({ slot, urgent, content });
  }

  hostForgotten(name: string): void {
    this.forgotten.push(name);
  }

  recordEvent(event: Omit<HostEvent, 'id'>): void {
    this.events.push(event);
  }

  /** `host from→to` for each state event, the way people read transitions. */
  transitions(): string[] {
    return this.events.filter((e) => e.kind === 'state').map((e) => `${e.host} ${e.from ?? '∅'}→${e.to}`);
  }
}
