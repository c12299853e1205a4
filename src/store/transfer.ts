import type { PublishedRecords } from '../model/dns.js';
import type { HostEvent } from '../model/events.js';
import type { HostRecord } from '../model/host.js';
import type { AnnouncedHost, OutboxMessage, Trigger } from '../model/outbox.js';
import type { SessionRecord } from '../model/session.js';
import type { Silence } from '../model/silence.js';
import type { PingRecord } from './ping-store.js';

/**
 * Everything a store holds, as `hbd store copy` moves it from one store to another: the rows
 * themselves, with their ids, states and attempts, which the sub-stores' methods cannot write
 * (they hand out ids and start messages as pending).
 */
export const TRANSFER_KINDS = [
  'hosts',
  'events',
  'dns',
  'triggers',
  'messages',
  'announced',
  'silences',
  'sessions',
  'pings',
] as const;
export type TransferKind = (typeof TRANSFER_KINDS)[number];

/** A kept ping with its number in its host's ring (store/ping-store.ts). */
export interface NumberedPing extends PingRecord {
  n: number;
}

export interface TransferRows {
  /** In the order they first appeared. */
  hosts: HostRecord;
  events: HostEvent;
  dns: PublishedRecords;
  triggers: Trigger;
  /** Every state, with its position in the delivery order. */
  messages: OutboxMessage;
  announced: AnnouncedHost;
  silences: Silence;
  /** In login order. */
  sessions: SessionRecord;
  pings: NumberedPing;
}

export type TransferCounts = Record<TransferKind, number>;

/** The last id each table handed out: the copy goes on after them, so an id is never given twice. */
export interface LastIds {
  events: number;
  triggers: number;
  messages: number;
  silences: number;
}

export interface TransferSource {
  counts(): Promise<TransferCounts>;
  lastIds(): Promise<LastIds>;
  /** Every row of `kind`, in order (by id where it has one), a page at a time. */
  rows<K extends TransferKind>(kind: K): AsyncIterable<TransferRows[K][]>;
}

/** A store opened for copying: read as a source, or filled as the target. */
export interface StoreTransfer extends TransferSource {
  /** As the store's `location`: never with a password. */
  readonly location: string;
  /** Why hbd seems to be running on this store, in a sentence; undefined when it does not. */
  inUse(): Promise<string | undefined>;
  /**
   * Writes everything `source` holds, in one transaction. A store that holds anything is
   * refused (StoreNotEmptyError), unless `replace`, which deletes what it held first.
   */
  fill(source: TransferSource, options: { replace: boolean }): Promise<TransferCounts>;
  close(): Promise<void>;
}

export class StoreNotEmptyError extends Error {
  readonly location: string;
  readonly counts: TransferCounts;

  constructor(location: string, counts: TransferCounts) {
    super(`${location} is not empty (${describeCounts(counts)})`);
    this.name = 'StoreNotEmptyError';
    this.location = location;
    this.counts = counts;
  }
}

/** `3 hosts, 120 events, …`: the kinds that have rows, or `nothing`. */
export function describeCounts(counts: TransferCounts): string {
  const parts = TRANSFER_KINDS.filter((kind) => counts[kind] > 0).map((kind) => `${counts[kind]} ${kind}`);
  return parts.length > 0 ? parts.join(', ') : 'nothing';
}

export function noRows(): TransferCounts {
  return Object.fromEntries(TRANSFER_KINDS.map((kind) => [kind, 0])) as TransferCounts;
}

/**
 * The pages a keyset query returns, `pageSize` rows at a time, until one comes back short.
 * `fetched` counts the rows read, `rows` those kept (a row that cannot be read is skipped).
 */
export async function* pagesOf<Row, Key>(
  page: (
    after: Key | undefined,
    limit: number,
  ) => Promise<{ rows: Row[]; fetched: number; last: Key | undefined }>,
  pageSize = 1000,
): AsyncIterable<Row[]> {
  let after: Key | undefined;
  for (;;) {
    const { rows, fetched, last } = await page(after, pageSize);
    if (rows.length > 0) yield rows;
    if (fetched < pageSize || last === undefined) return;
    after = last;
  }
}
