import { HOST_STATES, type HostState } from '../../model/events.js';
import type { HostRecord } from '../../model/host.js';
import { STATUSES, type Status } from '../../protocol/types.js';
import { parseJsonColumn } from './damage.js';

/** A host as the `hosts` table holds it. */
export interface HostRow {
  name: string;
  state: HostState;
  status: Status;
  msg: string | null;
  fields: string | null;
  addr: string;
  ip4: string | null;
  ip6: string | null;
  signed: number;
  first_seen: number;
  last_seen: number;
  last_ts: number | null;
  every: number | null;
  last_seq: number | null;
  received: number;
  lost: number;
}

export function toRow(host: HostRecord): HostRow {
  return {
    name: host.name,
    state: host.state,
    status: host.status,
    msg: host.msg,
    fields: Object.keys(host.fields).length > 0 ? JSON.stringify(host.fields) : null,
    addr: host.addr,
    ip4: host.ip4,
    ip6: host.ip6,
    signed: host.signed ? 1 : 0,
    first_seen: host.firstSeen,
    last_seen: host.lastSeen,
    last_ts: host.lastTs,
    every: host.every,
    last_seq: host.lastSeq,
    received: host.received,
    lost: host.lost,
  };
}

/**
 * The host a row describes, or what is wrong with it. Everything hbd's state machine relies on
 * is checked: a row edited by hand or half-salvaged from a damaged file must not be half-believed.
 */
export function fromRow(row: HostRow): HostRecord | string {
  if (typeof row.name !== 'string' || row.name === '') return 'column name is empty';
  if (!(HOST_STATES as readonly unknown[]).includes(row.state)) return `column state is ${show(row.state)}`;
  if (!(STATUSES as readonly unknown[]).includes(row.status)) return `column status is ${show(row.status)}`;
  let fields: Record<string, string> = {};
  if (row.fields !== null) {
    const parsed =
      typeof row.fields === 'string' ? parseJsonColumn('fields', row.fields) : 'column fields is no text';
    if (typeof parsed === 'string') return parsed;
    if (!isStringMap(parsed.value)) return 'column fields is not a map of names to text';
    fields = parsed.value;
  }
  for (const column of ['first_seen', 'last_seen', 'received', 'lost'] as const) {
    if (!Number.isFinite(row[column])) return `column ${column} is ${show(row[column])}`;
  }
  for (const column of ['last_ts', 'every', 'last_seq'] as const) {
    if (row[column] !== null && !Number.isFinite(row[column]))
      return `column ${column} is ${show(row[column])}`;
  }
  for (const column of ['msg', 'ip4', 'ip6'] as const) {
    if (row[column] !== null && typeof row[column] !== 'string')
      return `column ${column} is ${show(row[column])}`;
  }
  if (typeof row.addr !== 'string') return `column addr is ${show(row.addr)}`;
  return {
    name: row.name,
    state: row.state,
    status: row.status,
    msg: row.msg,
    fields,
    addr: row.addr,
    ip4: row.ip4,
    ip6: row.ip6,
    signed: row.signed === 1,
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
    lastTs: row.last_ts,
    every: row.every,
    lastSeq: row.last_seq,
    received: row.received,
    lost: row.lost,
  };
}

function isStringMap(value: unknown): value is Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  return Object.values(value).every((v) => typeof v === 'string');
}

/** A bad value, short, for a warning. */
function show(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
