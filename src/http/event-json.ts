import type { HostEvent } from '../model/events.js';
import { rfc3339 } from './host-json.js';

export function eventJson(event: HostEvent) {
  return {
    id: event.id,
    at: rfc3339(event.at),
    host: event.host,
    kind: event.kind,
    from: event.from,
    to: event.to,
    reason: event.reason,
  };
}
