import { Fragment } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import {
  ApiError,
  type BeatJson,
  type EventJson,
  getJson,
  type HostJson,
  type OutboxMessageJson,
  type PingJson,
  type UptimeJson,
} from './api.js';
import { BeatsChart } from './beats-chart.js';
import { useNow } from './clock.js';
import { EventList, type TimelineEntry } from './event-list.js';
import { addDetails, fleet } from './fleet.js';
import { ago, dateTime, globMatches, percent, runningSince, span, timeOfDay } from './format.js';
import { useObservable, useSelect } from './observable.js';
import { PingList } from './ping-list.js';
import { SilenceForm } from './silence-form.js';
import { refreshSilences, silences } from './silences.js';

type HostDetail = HostJson & { events: EventJson[] };

/** The beats chart and uptime are fetched again at most this often while heartbeats arrive. */
const REFRESH_MS = 1000;
/**
 * How often the last pings are asked for besides: a `/start` or `/log` ping moves no heartbeat
 * through the live feed, yet changes the run and the message shown here.
 */
const PINGS_REFRESH_MS = 5000;

export function HostPage({ name }: { name: string }) {
  const rev = useSelect(fleet, (state) => state.hosts.get(name)?.rev ?? -1);
  const snapshots = useSelect(fleet, (state) => state.snapshots);
  const liveEvents = useSelect(fleet, (state) => state.events);
  const activeSilences = useObservable(silences).silences ?? [];
  const now = useNow();
  const [detail, setDetail] = useState<HostDetail | 'missing' | null>(null);
  const [beats, setBeats] = useState<BeatJson[] | null>(null);
  const [uptime, setUptime] = useState<UptimeJson | null>(null);
  const [notifications, setNotifications] = useState<OutboxMessageJson[]>([]);
  const [pings, setPings] = useState<PingJson[]>([]);
  const [silencing, setSilencing] = useState(false);
  /** Bumped when the page shows another host (or goes): answers asked for before are dropped. */
  const generation = useRef(0);
  /** The newest ping seen: null for none, undefined before the first answer. */
  const newestPing = useRef<string | null | undefined>(undefined);

  const loadDetail = () => {
    const asked = generation.current;
    getJson<HostDetail>(`/api/hosts/${encodeURIComponent(name)}`).then(
      (answer) => {
        if (asked !== generation.current) return;
        setDetail(answer);
        const { events: _, ...fields } = answer;
        addDetails(fields);
      },
      (error) =>
        asked === generation.current &&
        error instanceof ApiError &&
        error.status === 404 &&
        setDetail('missing'),
    );
  };
  const loadPings = () => {
    const asked = generation.current;
    getJson<{ pings: PingJson[] }>(`/api/hosts/${encodeURIComponent(name)}/pings`).then(
      (answer) => {
        if (asked !== generation.current) return;
        setPings(answer.pings);
        const first = answer.pings[0];
        const newest = first === undefined ? null : `${first.at} ${first.kind} ${answer.pings.length}`;
        // A new ping may have started or ended a run, or left a message: the host is read again.
        if (newestPing.current !== undefined && newest !== newestPing.current) loadDetail();
        newestPing.current = newest;
      },
      () => asked === generation.current && setPings([]),
    );
  };

  useEffect(() => {
    const asked = ++generation.current;
    setDetail(null);
    setPings([]);
    newestPing.current = undefined;
    loadDetail();
    loadPings();
    const timer = setInterval(loadPings, PINGS_REFRESH_MS);
    getJson<{ messages: OutboxMessageJson[] }>('/api/outbox?limit=200').then(
      (answer) =>
        asked === generation.current &&
        setNotifications(answer.messages.filter((m) => m.hosts.includes(name))),
      () => asked === generation.current && setNotifications([]),
    );
    void refreshSilences();
    return () => {
      generation.current++;
      clearInterval(timer);
    };
  }, [name, snapshots]);

  useThrottled(
    () => {
      getJson<{ beats: BeatJson[] }>(`/api/hosts/${encodeURIComponent(name)}/beats`).then(
        (answer) => setBeats(answer.beats),
        () => setBeats(null),
      );
      getJson<UptimeJson>(`/api/hosts/${encodeURIComponent(name)}/uptime`).then(setUptime, () => {});
      loadPings();
    },
    [name, rev],
    REFRESH_MS,
  );

  const host = fleet.value.hosts.get(name) ?? (typeof detail === 'object' ? detail : null);
  if (!host) {
    return (
      <section class="host-page">
        <p class="empty">
          {detail === 'missing' ? `hbd knows no host named “${name}”.` : `Loading ${name}…`}{' '}
          <a href="#/">Back to the fleet</a>
        </p>
      </section>
    );
  }

  const silencedBy = activeSilences.filter((silence) => globMatches(silence.pattern, name));
  const timeline = timelineOf(
    name,
    typeof detail === 'object' ? (detail?.events ?? []) : [],
    liveEvents,
    notifications,
  );
  const extraFields = Object.entries(host.fields);

  return (
    <section class={`host-page s-${host.state}`} aria-label={`Host ${name}`}>
      <div class="host-head">
        <a href="#/" class="back">
          ← Fleet
        </a>
        <h1>
          {host.name} <span class={`badge b-${host.state}`}>{host.state}</span>
          {(host.status === 'warn' || host.status === 'fail') && (
            <span class={`badge b-${host.status}`}>{host.status}</span>
          )}
        </h1>
        <button type="button" class="primary silence-button" onClick={() => setSilencing(!silencing)}>
          {silencing ? 'Cancel' : 'Silence…'}
        </button>
      </div>
      {silencedBy.length > 0 && (
        <p class="silenced">
          Notifications muted until {dateTime(Math.max(...silencedBy.map((silence) => silence.until_ms)))} (
          {silencedBy.map((silence) => silence.pattern).join(', ')}).
        </p>
      )}
      {silencing && <SilenceForm pattern={name} />}

      <div class="host-grid">
        <dl class="fields">
          <dt>state</dt>
          <dd data-field="state">{host.state}</dd>
          <dt>status</dt>
          <dd>{host.status}</dd>
          <dt>message</dt>
          <dd data-field="msg">{host.msg ?? '–'}</dd>
          <dt>address</dt>
          <dd data-field="addr">{host.addr}</dd>
          <dt>last seen</dt>
          <dd title={dateTime(host.last_seen)}>{ago(Date.parse(host.last_seen), now)}</dd>
          <dt>first seen</dt>
          <dd>{dateTime(host.first_seen)}</dd>
          <dt>interval</dt>
          <dd data-field="interval">
            {host.interval ? `${span(host.interval)} + grace ${span(host.grace)}` : '–'}
            {host.every !== null && host.every !== host.interval ? ` (announces ${span(host.every)})` : ''}
          </dd>
          {host.run && (
            <>
              <dt>run</dt>
              <dd data-field="run">
                {runningSince(host.run.started, now)}
                {host.run.id ? ` (run ${host.run.id})` : ''}; down at {timeOfDay(host.run.deadline)} unless it
                finishes
              </dd>
            </>
          )}
          <dt>heartbeats</dt>
          <dd>
            {host.seq === null
              ? 'no seq'
              : `seq ${host.seq}; ${host.received} received, ${host.lost} lost (${percent(host.loss, 2)})`}
          </dd>
          <dt>signed</dt>
          <dd>{host.signed ? 'yes' : 'no'}</dd>
          <dt>DNS</dt>
          <dd data-field="dns">
            {host.dns
              ? `${host.dns.name}: ${[host.dns.published.A, host.dns.published.AAAA].filter(Boolean).join(', ') || 'nothing published'}` +
                (host.dns.last_error ? ` (last error: ${host.dns.last_error})` : '') +
                (host.dns.pending ? ' (update pending)' : '')
              : '–'}
          </dd>
          {extraFields.map(([key, value]) => (
            <Fragment key={key}>
              <dt>{key}</dt>
              <dd>{value}</dd>
            </Fragment>
          ))}
        </dl>
        <div class="host-side">
          <h2>Uptime</h2>
          <UptimeBar label="last day" share={uptime?.day ?? null} />
          <UptimeBar label="last week" share={uptime?.week ?? null} />
          <h2>Recent heartbeats</h2>
          {beats === null ? (
            <p class="chart-empty">Loading…</p>
          ) : (
            <BeatsChart beats={beats} interval={host.interval} grace={host.grace} />
          )}
        </div>
      </div>
      {pings.length > 0 && (
        <>
          <h2>Last pings</h2>
          <PingList pings={pings} />
        </>
      )}
      <h2>Events and notifications</h2>
      <EventList entries={timeline} showHost={false} />
    </section>
  );
}

function UptimeBar({ label, share }: { label: string; share: number | null }) {
  return (
    <div class="uptime" data-uptime={label}>
      <span class="uptime-label">{label}</span>
      <div class="uptime-bar" aria-hidden="true">
        <div
          class={`uptime-fill${share === null ? ' unknown' : ''}`}
          style={{ width: `${(share ?? 0) * 100}%` }}
        />
      </div>
      <span class="uptime-value">{share === null ? 'no data' : percent(share, share === 1 ? 0 : 2)}</span>
    </div>
  );
}

function timelineOf(
  name: string,
  stored: EventJson[],
  live: EventJson[],
  notifications: OutboxMessageJson[],
): TimelineEntry[] {
  const byId = new Map<number, EventJson>();
  for (const event of stored) byId.set(event.id, event);
  for (const event of live) if (event.host === name) byId.set(event.id, event);
  const entries: TimelineEntry[] = [...byId.values()].map((event) => ({ type: 'event', event }));
  for (const message of notifications) entries.push({ type: 'notification', message });
  const at = (entry: TimelineEntry) =>
    Date.parse(entry.type === 'event' ? entry.event.at : entry.message.created);
  return entries.sort((a, b) => at(b) - at(a));
}

/** Runs `effect` when `inputs` change, but at most once per `ms`: the last change always gets its run. */
function useThrottled(effect: () => void, inputs: unknown[], ms: number): void {
  const lastRun = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const latest = useRef(effect);
  latest.current = effect;
  useEffect(() => () => clearTimeout(timer.current), []);
  useEffect(() => {
    if (timer.current !== undefined) return;
    const wait = lastRun.current + ms - Date.now();
    const run = () => {
      timer.current = undefined;
      lastRun.current = Date.now();
      latest.current();
    };
    if (wait <= 0) run();
    else timer.current = setTimeout(run, wait);
  }, inputs);
}
