import type { EventJson, OutboxMessageJson } from './api.js';
import { dateTime } from './format.js';
import { hostHref } from './route.js';

export type TimelineEntry =
  | { type: 'event'; event: EventJson }
  | { type: 'notification'; message: OutboxMessageJson };

export function EventList({ entries, showHost }: { entries: TimelineEntry[]; showHost: boolean }) {
  if (entries.length === 0) return <p class="empty">Nothing yet.</p>;
  return (
    <ol class="events">
      {entries.map((entry) =>
        entry.type === 'event' ? (
          <EventRow key={`e${entry.event.id}`} event={entry.event} showHost={showHost} />
        ) : (
          <NotificationRow key={`n${entry.message.id}`} message={entry.message} />
        ),
      )}
    </ol>
  );
}

function EventRow({ event, showHost }: { event: EventJson; showHost: boolean }) {
  const tone = event.kind === 'state' || event.kind === 'status' ? (event.to ?? '') : event.kind;
  return (
    <li class={`event k-${event.kind}`} data-kind={event.kind}>
      <time dateTime={event.at}>{dateTime(event.at)}</time>
      {showHost && (
        <a class="event-host" href={hostHref(event.host)}>
          {event.host}
        </a>
      )}
      <span class={`badge b-${tone}`}>{label(event)}</span>
      <span class="reason">{event.reason}</span>
    </li>
  );
}

function label(event: EventJson): string {
  switch (event.kind) {
    case 'state':
    case 'status':
      return event.from ? `${event.from} → ${event.to}` : `${event.to}`;
    case 'dns':
      return 'DNS';
    case 'forget':
      return 'forgotten';
  }
}

function NotificationRow({ message }: { message: OutboxMessageJson }) {
  return (
    <li class="event k-notification" data-kind="notification">
      <time dateTime={message.created}>{dateTime(message.created)}</time>
      <span class={`badge n-${message.state}`}>
        {message.channel} {message.state}
      </span>
      <span class="reason">
        {message.title}
        {message.last_error ? ` (${message.last_error})` : ''}
      </span>
    </li>
  );
}
