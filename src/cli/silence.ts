import { Command } from 'commander';
import type { SilenceJson } from '../http/silence-routes.js';
import { formatDuration, parseDuration } from '../lib/duration.js';
import {
  type ApiOptions,
  callApi,
  connectApi,
  reportApiFailure,
  usageError,
  withApiOptions,
} from './api-client.js';
import { formatTable } from './table.js';

interface SilenceOptions extends ApiOptions {
  reason?: string;
}

interface ListOptions extends ApiOptions {
  json?: boolean;
}

export function silenceCommand(): Command {
  return withApiOptions(
    new Command('silence')
      .description('mute the notifications of a host, or of every host a glob matches, for a while')
      .argument('<pattern>', "a host name, or a glob with * and ? (quote it: 'web*')")
      .argument('<duration>', 'how long: 90s, 15m, 2h, 1d, 1w, 1h30m, or seconds')
      .option('--reason <text>', 'why, for whoever looks at the silences'),
  ).action((pattern: string, duration: string, options: SilenceOptions) =>
    addSilence(pattern, duration, options),
  );
}

export function silencesCommand(): Command {
  return withApiOptions(
    new Command('silences')
      .description('print the silences in force in a running hbd')
      .option('--json', 'print the API answer as JSON'),
  ).action((options: ListOptions) => listSilences(options));
}

export function unsilenceCommand(): Command {
  return withApiOptions(
    new Command('unsilence')
      .description('remove a silence before it expires')
      .argument('<id>', 'the id of the silence, as `hbd silences` shows it'),
  ).action((id: string, options: ApiOptions) => removeSilence(id, options));
}

async function addSilence(pattern: string, duration: string, options: SilenceOptions): Promise<void> {
  let durationMs: number;
  try {
    durationMs = parseDuration(duration);
  } catch (error) {
    return usageError(`silence: ${(error as Error).message}`);
  }
  const api = connectApi(options, 'silence');
  if (!api) return;
  try {
    const { silence } = await callApi<{ silence: SilenceJson }>(api.base, '/api/silences', {
      method: 'POST',
      headers: { ...api.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ pattern, duration, reason: options.reason }),
    });
    process.stdout.write(
      `silenced ${silence.pattern} until ${readableTime(silence.until_ms)} (${formatDuration(durationMs)}), id ${silence.id}\n`,
    );
  } catch (error) {
    failed('silence', error);
  }
}

async function listSilences(options: ListOptions): Promise<void> {
  const api = connectApi(options);
  if (!api) return;
  let silences: SilenceJson[];
  try {
    silences = (
      await callApi<{ silences: SilenceJson[] }>(api.base, '/api/silences', { headers: api.headers })
    ).silences;
  } catch (error) {
    return failed('silences', error);
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify(silences, null, 2)}\n`);
    return;
  }
  process.stdout.write(formatSilenceTable(silences, Date.now()));
}

async function removeSilence(idText: string, options: ApiOptions): Promise<void> {
  if (!/^[1-9]\d*$/.test(idText)) {
    return usageError(
      `unsilence: expected the id of a silence (a number, see \`hbd silences\`), got "${idText}"`,
    );
  }
  const api = connectApi(options, 'unsilence');
  if (!api) return;
  try {
    const { removed } = await callApi<{ removed: number }>(api.base, `/api/silences/${idText}`, {
      method: 'DELETE',
      headers: api.headers,
    });
    process.stdout.write(`removed silence ${removed}\n`);
  } catch (error) {
    failed('unsilence', error);
  }
}

function formatSilenceTable(silences: readonly SilenceJson[], now: number): string {
  if (silences.length === 0) return 'no silences in force\n';
  const header = ['ID', 'PATTERN', 'UNTIL', 'REMAINING', 'REASON'];
  const rows = silences.map((silence) => [
    String(silence.id),
    silence.pattern,
    readableTime(silence.until_ms),
    formatDuration(silence.until_ms - now),
    silence.reason ?? '',
  ]);
  return formatTable(header, rows, 'silence');
}

/** "2026-11-25 20:00 UTC": to the minute, and in UTC so that it means the same on every machine. */
function readableTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function failed(command: string, error: unknown): void {
  reportApiFailure(`${command} failed`, error);
}
