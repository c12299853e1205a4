import { escapeControlCharacters } from '../lib/inert-text.js';

/**
 * Lines up the columns for a terminal and ends with the count, `3 host(s)`. No line ends in blanks,
 * so the output can be compared and grepped as it is. Cells hold hosts' own text (messages), so
 * their control characters are escaped: a row stays one line and plays nothing on the terminal.
 */
export function formatTable(header: string[], cells: string[][], rowNoun: string): string {
  const rows = cells.map((row) => row.map(escapeControlCharacters));
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: string[]) =>
    `${cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd()}\n`;
  return `${[header, ...rows].map(line).join('')}${rows.length} ${rowNoun}(s)\n`;
}
