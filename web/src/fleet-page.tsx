import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { isNodeHost } from '../../src/cluster/node-host.js';
import type { HostState } from './api.js';
import { useNow } from './clock.js';
import { cluster } from './cluster.js';
import { ClusterPanel } from './cluster-panel.js';
import { type CountKey, type FleetChanges, fleet, type Host } from './fleet.js';
import { ago, runningSince } from './format.js';
import { Observable, useObservable, useSelect } from './observable.js';
import { hostHref } from './route.js';

export type SortKey = 'name' | 'state' | 'last_seen' | 'addr';

interface ViewOptions {
  text: string;
  show: CountKey;
  sort: SortKey;
}

/** Kept outside the page, so coming back from a host finds the fleet filtered as it was left. */
const viewOptions = new Observable<ViewOptions>({ text: '', show: 'all', sort: 'name' });

const COUNT_KEYS: CountKey[] = ['all', 'up', 'late', 'down', 'left', 'warn', 'fail'];
const SORT_LABELS: Record<SortKey, string> = {
  name: 'name',
  state: 'state, down first',
  last_seen: 'longest silent first',
  addr: 'address',
};
/** Rows beyond the visible ones drawn above and below, so a quick scroll shows no blank band. */
const OVERSCAN = 8;
const PHONE_QUERY = '(max-width: 700px)';

export function FleetPage() {
  const options = useObservable(viewOptions);
  const changes = useSelect(fleet, (state) => state.changes);
  const counts = useSelect(fleet, (state) => state.counts);
  const snapshots = useSelect(fleet, (state) => state.snapshots);
  const clusterKind = useSelect(cluster, ({ status }) => (typeof status === 'string' ? status : 'node'));
  const set = (change: Partial<ViewOptions>) => viewOptions.set({ ...viewOptions.value, ...change });

  const shown = useMemo(
    () => visibleHosts(fleet.value.hosts, options),
    // The hosts are mutated in place: these counts stand for the changes that can move this list.
    [options, ...relevantChanges(changes, options)],
  );

  useEffect(() => {
    if (snapshots > 0) performance.mark('hbd:fleet-rendered', { detail: { hosts: counts.all } });
  }, [snapshots]);
  useEffect(() => {
    performance.mark('hbd:filter-rendered', { detail: { text: options.text, shown: shown.length } });
  }, [options.text, options.show]);

  return (
    <section class="fleet" aria-label="Fleet" data-cluster={clusterKind}>
      <ClusterPanel />
      <div class="counts">
        {COUNT_KEYS.map((key) => (
          <button
            type="button"
            key={key}
            class={`count c-${key}`}
            aria-pressed={options.show === key}
            data-count={key}
            onClick={() => set({ show: options.show === key && key !== 'all' ? 'all' : key })}
          >
            <span class="count-label">{key}</span> <span class="count-value">{counts[key]}</span>
          </button>
        ))}
      </div>
      <div class="toolbar">
        <input
          type="search"
          class="filter"
          placeholder="Filter: name, address, message, DNS name, running"
          aria-label="Filter hosts"
          value={options.text}
          onInput={(event) => set({ text: event.currentTarget.value })}
        />
        <label>
          <span class="visually-hidden">Show</span>
          <select
            aria-label="Show hosts in state"
            class="state-filter"
            value={options.show}
            onChange={(event) => set({ show: event.currentTarget.value as CountKey })}
          >
            {COUNT_KEYS.map((key) => (
              <option key={key} value={key}>
                {key === 'all' ? 'every state' : key}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span class="visually-hidden">Sort by</span>
          <select
            aria-label="Sort by"
            class="sort"
            value={options.sort}
            onChange={(event) => set({ sort: event.currentTarget.value as SortKey })}
          >
            {(Object.keys(SORT_LABELS) as SortKey[]).map((key) => (
              <option key={key} value={key}>
                sort: {SORT_LABELS[key]}
              </option>
            ))}
          </select>
        </label>
        <span class="shown" aria-live="polite">
          {shown.length === counts.all ? `${counts.all} hosts` : `${shown.length} of ${counts.all} hosts`}
        </span>
      </div>
      {snapshots === 0 ? (
        <p class="empty">Connecting to hbd…</p>
      ) : shown.length === 0 ? (
        <p class="empty">
          {counts.all === 0
            ? 'No host has sent a heartbeat yet. Try: npx hbd send --server <this host> --msg hello'
            : 'No host matches the filter.'}
        </p>
      ) : (
        <HostRows hosts={shown} />
      )}
    </section>
  );
}

/** Draws only the rows in view: ten thousand hosts cost the same as forty. */
function HostRows({ hosts }: { hosts: Host[] }) {
  useSelect(fleet, (state) => state.version);
  const now = useNow();
  // In a cluster each node is also a host of the fleet; on a single node the name means nothing.
  const clustered = useSelect(cluster, ({ status }) => typeof status !== 'string');
  const scroller = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(800);
  const rowHeight = useRowHeight();
  const frame = useRef(0);

  useLayoutEffect(() => {
    const element = scroller.current!;
    const observer = new ResizeObserver(() => setHeight(element.clientHeight));
    observer.observe(element);
    setHeight(element.clientHeight);
    return () => observer.disconnect();
  }, []);

  const onScroll = () => {
    if (frame.current !== 0) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      if (scroller.current) setScrollTop(scroller.current.scrollTop);
    });
  };

  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - OVERSCAN);
  const last = Math.min(hosts.length, Math.ceil((scrollTop + height) / rowHeight) + OVERSCAN);
  const rows = [];
  for (let index = first; index < last; index++) {
    const host = hosts[index]!;
    rows.push(
      <HostRow
        key={host.name}
        host={host}
        top={index * rowHeight}
        now={now}
        node={clustered && isNodeHost(host.name)}
      />,
    );
  }
  return (
    <div class="rows" ref={scroller} onScroll={onScroll}>
      {/* Inside the scroller, so that its columns and the rows' share one width, scroll bar or not. */}
      <div class="row head" aria-hidden="true">
        <span>state</span>
        <span>name</span>
        <span>address</span>
        <span>last seen</span>
        <span>message</span>
        <span>DNS name</span>
      </div>
      <ul class="rows-inner" style={{ height: `${hosts.length * rowHeight}px` }}>
        {rows}
      </ul>
    </div>
  );
}

function HostRow({ host, top, now, node }: { host: Host; top: number; now: number; node: boolean }) {
  return (
    <li class={`row s-${host.state} st-${host.status}`} style={{ top: `${top}px` }} data-host={host.name}>
      <a href={hostHref(host.name)}>
        <span class={`badge b-${host.state}`} data-state={host.state}>
          {host.state}
        </span>
        <span class="name">{host.name}</span>
        <span class="addr">{host.addr}</span>
        <span class="seen">{ago(host.lastSeenMs, now)}</span>
        <span class="msg">
          {node && <span class="badge b-node">hbd node</span>}
          {(host.status === 'warn' || host.status === 'fail') && (
            <span class={`badge b-${host.status}`}>{host.status}</span>
          )}
          {host.run && (
            <span class="run" data-run={host.run.started}>
              {runningSince(host.run.started, now)}
            </span>
          )}
          {host.msg}
        </span>
        <span class="dns">{host.dns?.name ?? ''}</span>
      </a>
    </li>
  );
}

function useRowHeight(): number {
  const [phone, setPhone] = useState(() => matchMedia(PHONE_QUERY).matches);
  useEffect(() => {
    const query = matchMedia(PHONE_QUERY);
    const changed = () => setPhone(query.matches);
    query.addEventListener('change', changed);
    return () => query.removeEventListener('change', changed);
  }, []);
  // The same heights as .row in style.css.
  return phone ? 60 : 36;
}

function relevantChanges(changes: FleetChanges, options: ViewOptions): number[] {
  const filtering = options.text.trim() !== '';
  return [
    changes.membership,
    filtering || options.show !== 'all' || options.sort === 'state' ? changes.states : 0,
    filtering || options.sort === 'addr' ? changes.texts : 0,
    options.sort === 'last_seen' ? changes.beats : 0,
  ];
}

const STATE_RANK: Record<HostState, number> = { down: 0, late: 1, up: 2, left: 3 };
const STATUS_RANK = { fail: 0, warn: 1, ok: 2, bye: 3 } as const;

function visibleHosts(hosts: Map<string, Host>, options: ViewOptions): Host[] {
  const words = options.text.toLowerCase().split(/\s+/).filter(Boolean);
  const shown: Host[] = [];
  for (const host of hosts.values()) {
    if (!inState(host, options.show)) continue;
    if (words.length > 0) {
      host.haystack ??=
        `${host.name} ${host.addr} ${host.msg ?? ''} ${host.dns?.name ?? ''} ${host.state} ${host.status}${host.run ? ' running' : ''}`.toLowerCase();
      const haystack = host.haystack;
      if (!words.every((word) => haystack.includes(word))) continue;
    }
    shown.push(host);
  }
  return shown.sort(comparator(options.sort));
}

function inState(host: Host, show: CountKey): boolean {
  if (show === 'all') return true;
  if (show === 'warn' || show === 'fail') return host.status === show;
  return host.state === show;
}

function byName(a: Host, b: Host): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function comparator(sort: SortKey): (a: Host, b: Host) => number {
  switch (sort) {
    case 'name':
      return byName;
    case 'state':
      return (a, b) =>
        STATE_RANK[a.state] - STATE_RANK[b.state] ||
        STATUS_RANK[a.status] - STATUS_RANK[b.status] ||
        byName(a, b);
    case 'last_seen':
      return (a, b) => a.lastSeenMs - b.lastSeenMs || byName(a, b);
    case 'addr':
      return (a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : byName(a, b));
  }
}
