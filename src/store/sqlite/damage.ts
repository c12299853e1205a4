/**
 * What hbd does with a state file it cannot fully trust. A file SQLite itself calls damaged
 * ("database disk image is malformed", "file is not a database") stops hbd with a message
 * naming the file and how to recover; a single row it cannot read is skipped with a warning
 * naming the file, the table and the row, so one bad host never takes the whole fleet down.
 */

/** SQLite's result codes for a file whose pages or header cannot be trusted. */
function isDamage(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB');
}

export class DamagedStateError extends Error {
  readonly path: string;
  /** SQLite's own code: SQLITE_CORRUPT, SQLITE_NOTADB, … */
  readonly code: string | undefined;

  constructor(path: string, sqliteError: unknown) {
    super(
      `the state file ${path} is damaged (${(sqliteError as Error).message}), so hbd cannot trust what it holds. ` +
        `To recover, move the file aside with its -wal and -shm files (mv ${path} ${path}.damaged, ` +
        'and the same for the other two) and start hbd again: it starts with no hosts, and each host is ' +
        'back with its next heartbeat. docs/operations.md ("Damaged state") says how to salvage the history',
    );
    this.name = 'DamagedStateError';
    this.path = path;
    this.code = (sqliteError as { code?: string } | null)?.code;
    // A known fault with its own instructions: a stack trace (or the cause's, which a logger
    // would print after it) would only hide them. The message already says what SQLite said.
    this.stack = `${this.name}: ${this.message}`;
  }
}

/** `error` as a DamagedStateError naming `path` if SQLite says the file is damaged; otherwise as it is. */
export function damageOf(path: string, error: unknown): unknown {
  if (error instanceof DamagedStateError || !isDamage(error)) return error;
  return new DamagedStateError(path, error);
}

/** Reports a row that is skipped: where it is and what is wrong with it. */
export type BadRowReporter = (
  table: string,
  rowId: number,
  host: string | undefined,
  problem: string,
) => void;

/** The warning for a skipped row, the same for every table. */
export function badRowMessage(
  path: string,
  table: string,
  rowId: number,
  host: string | undefined,
  problem: string,
  consequence: string,
): string {
  const which = host === undefined ? `row ${rowId}` : `row ${rowId} (host ${JSON.stringify(host)})`;
  return `state file ${path}, table ${table}, ${which}: ${problem}; the row is skipped: ${consequence}`;
}

/** Parses a JSON column; the problem as text if it is not JSON. */
export function parseJsonColumn(column: string, text: string): { value: unknown } | string {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    return `column ${column} is not valid JSON (${(error as Error).message})`;
  }
}
