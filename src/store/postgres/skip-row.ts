/** Told about a row that cannot be read and is skipped: its table, id, host and what is wrong. */
export type SkipRow = (table: string, id: number, host: string | undefined, problem: string) => void;
