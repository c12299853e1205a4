/** The final table: one line per figure, with its target and its ratio to a baseline from the same run. */

export interface Row {
  measure: string;
  /** null: the measurement failed (see note). */
  value: number | null;
  unit: '/s' | 'B/host' | 'ns/heartbeat' | 'µs/datagram' | '%' | 'ms' | 'B';
  /** The figure is a lower bound (the sender, not the receiver, was the limit). */
  atLeast?: boolean;
  target: { atLeast: boolean; value: number; hint?: string } | null;
  /** Which baseline `ratio` divides by; null for a baseline's own line (or with `noBaseline`). */
  baselineOf: string | null;
  /** A figure no baseline applies to (a time or a size reported for its own sake). */
  noBaseline?: boolean;
  ratio: number | null;
  verdict: 'PASS' | 'MISS' | 'baseline' | 'info' | 'FAILED';
  note?: string;
}

export function verdictOf(value: number | null, target: NonNullable<Row['target']>): Row['verdict'] {
  if (value === null) return 'FAILED';
  return (target.atLeast ? value >= target.value : value <= target.value) ? 'PASS' : 'MISS';
}

export function ratioOf(value: number | null, baseline: number | null | undefined): number | null {
  return value === null || !baseline ? null : value / baseline;
}

export function formatFigure(value: number | null, unit: Row['unit'], atLeast = false): string {
  if (value === null) return 'n/a';
  const prefix = atLeast ? '≥ ' : '';
  switch (unit) {
    case '/s':
      return `${prefix}${Math.round(value).toLocaleString('en-US')}/s`;
    case 'B/host':
      return `${prefix}${value.toFixed(0)} B/host`;
    case 'ns/heartbeat':
      return `${prefix}${value.toFixed(0)} ns/hb`;
    case 'µs/datagram':
      return `${prefix}${value.toFixed(2)} µs/datagram`;
    case '%':
      return `${prefix}${value.toFixed(2)} %`;
    case 'ms':
      return `${prefix}${value.toFixed(0)} ms`;
    case 'B':
      return `${prefix}${formatBytes(value)}`;
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e4) return `${(bytes / 1e3).toFixed(0)} kB`;
  return `${bytes} B`;
}

export function formatTable(rows: readonly Row[]): string {
  const header = ['measure', 'figure', 'target', 'ratio to baseline', 'verdict'];
  const lines = rows.map((row) => [
    row.measure,
    formatFigure(row.value, row.unit, row.atLeast),
    row.target
      ? `${row.target.atLeast ? '≥' : '≤'} ${formatFigure(row.target.value, row.unit)}${row.target.hint ?? ''}`
      : '-',
    row.noBaseline
      ? '-'
      : row.baselineOf === null
        ? '1 (is the baseline)'
        : row.ratio === null
          ? 'n/a'
          : `${row.ratio.toFixed(2)} × ${row.baselineOf}`,
    row.verdict,
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...lines.map((line) => line[column]!.length)),
  );
  const render = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ');
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  const notes = rows.filter((row) => row.note).map((row) => `  * ${row.measure}: ${row.note}`);
  return [
    render(header),
    rule,
    ...lines.map(render),
    ...(notes.length > 0 ? ['', 'Notes:', ...notes] : []),
  ].join('\n');
}
