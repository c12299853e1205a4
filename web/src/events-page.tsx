import { useMemo, useState } from 'preact/hooks';
import { EventList, type TimelineEntry } from './event-list.js';
import { fleet } from './fleet.js';
import { useSelect } from './observable.js';

/** Every host's events as they happen, newest first (the last 500). */
export function EventsPage() {
  const events = useSelect(fleet, (state) => state.events);
  const [text, setText] = useState('');
  const entries = useMemo<TimelineEntry[]>(() => {
    const wanted = text.trim().toLowerCase();
    return events
      .filter(
        (event) => !wanted || `${event.host} ${event.kind} ${event.to} ${event.reason}`.includes(wanted),
      )
      .map((event) => ({ type: 'event', event }));
  }, [events, text]);
  return (
    <section class="events-page" aria-label="Event log">
      <div class="toolbar">
        <h1>Event log</h1>
        <input
          type="search"
          class="filter"
          placeholder="Filter events"
          aria-label="Filter events"
          value={text}
          onInput={(event) => setText(event.currentTarget.value)}
        />
      </div>
      <EventList entries={entries} showHost={true} />
    </section>
  );
}
