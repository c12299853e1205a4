import { escapeControlCharacters } from '../lib/inert-text.js';
import type { HostRecord } from '../model/host.js';
import { STATUSES } from '../protocol/types.js';
import type { HostView } from '../state/host-view.js';

/** What the per-host series show; the config checks the label names (valid, no clash with hbd's own). */
export interface HostSeriesSettings {
  /** Host fields added as labels to every per-host series, in this order. */
  labels: readonly string[];
  /** Hosts with series of their own: the first this many by name. */
  maxHosts: number;
}

/**
 * Characters a host field's value keeps as a label value. Fields come from heartbeats, so from
 * anyone in `unsigned_networks`; a scraper with `label_value_length_limit` set refuses the whole
 * scrape over one longer value, and every distinct value is a series Prometheus keeps.
 */
export const MAX_LABEL_VALUE_CHARS = 128;

const METRICS = {
  up: {
    name: 'hbd_host_up',
    help: 'Whether the host is heard: 1 up or late, 0 down. A host that said goodbye (left) has no series.',
  },
  status: {
    name: 'hbd_host_status',
    help: 'The status the host last reported: 1 for the current one, 0 for the others.',
  },
  lastSeen: {
    name: 'hbd_host_last_seen_timestamp_seconds',
    help: 'When the host was last heard, Unix seconds.',
  },
  dropped: {
    name: 'hbd_host_series_dropped',
    help: 'Hosts without per-host series because there are more than metrics.max_hosts (the last by name).',
  },
} as const;

/**
 * The per-host series, in the Prometheus text format, computed from the hosts as they are at
 * the scrape: nothing is kept or counted on the heartbeat path.
 *
 * Written here rather than through prom-client's gauges: at 10,000 hosts a scrape has 60,000
 * series, and prom-client's label hashing and formatting take several times as long, all of it on
 * the event loop that also hears heartbeats. `names` is the sorted host order the API keeps, so
 * which hosts fall past the cap is stable from one scrape to the next.
 */
export function hostSeriesText(
  hosts: Pick<HostView, 'find'>,
  names: readonly string[],
  settings: HostSeriesSettings,
): string {
  const shown = Math.min(names.length, settings.maxHosts);
  const up: string[] = [];
  const status: string[] = [];
  const lastSeen: string[] = [];
  for (let index = 0; index < shown; index++) {
    const host = hosts.find(names[index]!);
    // Forgotten since the order was read.
    if (host === undefined) continue;
    const labels = hostLabels(host, settings.labels);
    if (host.state !== 'left') up.push(`${METRICS.up.name}{${labels}} ${host.state === 'down' ? 0 : 1}`);
    for (const value of STATUSES) {
      status.push(`${METRICS.status.name}{${labels},status="${value}"} ${host.status === value ? 1 : 0}`);
    }
    lastSeen.push(`${METRICS.lastSeen.name}{${labels}} ${host.lastSeen / 1000}`);
  }
  return [
    block(METRICS.up, up),
    block(METRICS.status, status),
    block(METRICS.lastSeen, lastSeen),
    block(METRICS.dropped, [`${METRICS.dropped.name} ${names.length - shown}`]),
  ].join('\n');
}

function block(metric: { name: string; help: string }, samples: readonly string[]): string {
  const header = `# HELP ${metric.name} ${metric.help}\n# TYPE ${metric.name} gauge\n`;
  return samples.length === 0 ? header : `${header}${samples.join('\n')}\n`;
}

function hostLabels(host: HostRecord, fieldNames: readonly string[]): string {
  let labels = `host="${escapeLabelValue(host.name)}"`;
  for (const field of fieldNames) {
    const value = Object.hasOwn(host.fields, field) ? host.fields[field]! : '';
    labels += `,${field}="${escapeLabelValue(boundedFieldValue(value))}"`;
  }
  return labels;
}

/** A field's value made inert (control and direction characters written out) and cut to the bound. */
export function boundedFieldValue(value: string): string {
  const inert = escapeControlCharacters(value);
  // UTF-16 length bounds the code point count, so most values skip the count.
  if (inert.length <= MAX_LABEL_VALUE_CHARS) return inert;
  let kept = '';
  let count = 0;
  // By code point, so a cut never splits a character in two.
  for (const char of inert) {
    if (count++ === MAX_LABEL_VALUE_CHARS) break;
    kept += char;
  }
  return kept;
}

/** The text format's escapes inside a label value: backslash, double quote and newline. */
function escapeLabelValue(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`)) : value;
}
