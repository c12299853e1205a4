import type pg from 'pg';

/** Where a sub-store's statements go: the pool (a read on its own) or a transaction's client. */
export interface Db {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
}

/**
 * Text as PostgreSQL can store it. Its text and jsonb types cannot hold the NUL character,
 * which a heartbeat's message or a ping's body may carry (UTF-8 allows it): stored as is, it
 * would fail every write that carries it, so it is stored as U+FFFD, the replacement character.
 */
export function pgText<T extends string | null>(text: T): T {
  return (typeof text === 'string' && text.includes('\0') ? text.replaceAll('\0', '\uFFFD') : text) as T;
}

/** A value as JSON text for a jsonb column, its strings as pgText stores them. */
export function pgJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => (typeof inner === 'string' ? pgText(inner) : inner));
}

/** `($1, $2, …), ($17, …)` for `rows` rows of `width` parameters. */
export function placeholders(rows: number, width: number, first = 1): string {
  const tuples: string[] = [];
  for (let row = 0; row < rows; row++) {
    const start = first + row * width;
    tuples.push(`(${Array.from({ length: width }, (_, i) => `$${start + i}`).join(', ')})`);
  }
  return tuples.join(', ');
}

/** Most rows per statement: PostgreSQL takes at most 65535 parameters. */
const ROWS_PER_STATEMENT = 1000;

export function* chunks<T>(items: readonly T[], size = ROWS_PER_STATEMENT): Iterable<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
