/**
 * `hbd status`: is the fleet well? One summary line, one line per host that is not, and an exit
 * code with Nagios's meaning, so cron, a monitoring system or a shell prompt can act on it.
 */
import { Command } from 'commander';
import type { HostJson } from '../http/host-json.js';
import { formatDuration } from '../lib/duration.js';
import { escapeControlCharacters } from '../lib/inert-text.js';
import {
  type ApiConnection,
  type ApiOptions,
  callApi,
  connectApi,
  reportApiFailure,
  withApiOptions,
} from './api-client.js';
import type { EventJson } from './event-log.js';
import { usageExitCode } from './usage-exit.js';

/** Nagios's plugin codes: OK, WARNING, CRITICAL, UNKNOWN. */
export const STATUS_EXIT = { ok: 0, warning: 1, critical: 2, unknown: 3 } as const;

/** Hosts whose warn or fail is dated by reading their events: one request each. */
const MAX_DATED_STATUSES = 20;
/** Events read per host to find its last status change. */
const EVENTS_SEARCHED = 100;

interface StatusOptions extends ApiOptions {
  name?: string;
}

export function statusCommand(): Command {
  const command = withApiOptions(
    new Command('status')
      .description('say whether every host is well, with the exit codes of a Nagios check')
      .option('--name <glob>', 'only hosts whose name matches, such as "web*" (none matching: exit 3)')
      .addHelpText(
        'after',
        `
Prints a summary, then one line per host that is late, down, warn or fail. The exit code has
Nagios's meaning: 0 OK, 1 WARNING (late or warn), 2 CRITICAL (down or fail), 3 UNKNOWN (hbd
cannot be reached or asked, a bad config, bad usage).

Examples:
  $ hbd status || echo "something is wrong"
  $ hbd status --name 'db*' --url http://hbd.example.net:50004`,
      ),
  );
  return usageExitCode(command, STATUS_EXIT.unknown).action((options: StatusOptions) => status(options));
}

async function status(options: StatusOptions): Promise<void> {
  const api = connectApi(options, undefined, STATUS_EXIT.unknown);
  if (!api) return;
  let hosts: HostJson[];
  try {
    const query = options.name === undefined ? '' : `?name=${encodeURIComponent(options.name)}`;
    hosts = await callApi<HostJson[]>(api.base, `/api/hosts${query}`, { headers: api.headers });
  } catch (error) {
    reportApiFailure('status: cannot read the hosts', error, STATUS_EXIT.unknown);
    return;
  }
  if (options.name !== undefined && hosts.length === 0) {
    process.stderr.write(`hbd: status: no host matches "${escapeControlCharacters(options.name)}"\n`);
    process.exitCode = STATUS_EXIT.unknown;
    return;
  }
  const now = Date.now();
  const problems = hosts.filter((host) => levelOf(host) !== STATUS_EXIT.ok);
  const statusSince = await statusChanges(api, problems);
  process.stdout.write(`${summaryLine(hosts)}\n`);
  process.stdout.write(alignRows(problems.map((host) => problemRow(host, now, statusSince.get(host.name)))));
  process.exitCode = hosts.reduce<number>((worst, host) => Math.max(worst, levelOf(host)), STATUS_EXIT.ok);
}

/** Down or fail is critical, late or warn a warning; a host that left said goodbye on purpose. */
export function levelOf(host: Pick<HostJson, 'state' | 'status'>): number {
  if (host.state === 'left') return STATUS_EXIT.ok;
  if (host.state === 'down' || host.status === 'fail') return STATUS_EXIT.critical;
  if (host.state === 'late' || host.status === 'warn') return STATUS_EXIT.warning;
  return STATUS_EXIT.ok;
}

/** "12 hosts: 10 up, 1 late, 1 down; 1 warn": every state and problem status there is. */
export function summaryLine(hosts: readonly Pick<HostJson, 'state' | 'status'>[]): string {
  const count = (values: readonly string[], value: string) => values.filter((v) => v === value).length;
  const states = hosts.map((host) => host.state);
  // A host that left reports `bye`: what it said before that is no longer a problem.
  const statuses = hosts.filter((host) => host.state !== 'left').map((host) => host.status);
  const listed = (values: readonly string[], names: readonly string[]) =>
    names
      .map((name) => [count(values, name), name] as const)
      .filter(([n]) => n > 0)
      .map(([n, name]) => `${n} ${name}`)
      .join(', ');
  const stateList = listed(states, ['up', 'late', 'down', 'left']);
  const statusList = listed(statuses, ['warn', 'fail']);
  const total = `${hosts.length} host${hosts.length === 1 ? '' : 's'}`;
  return `${total}${stateList ? `: ${stateList}` : ''}${statusList ? `; ${statusList}` : ''}`;
}

/** Name, state (and status, unless ok), how long, and the host's own message. */
function problemRow(host: HostJson, now: number, statusSince: number | undefined): string[] {
  const what = host.status === 'ok' ? host.state : `${host.state}, ${host.status}`;
  let howLong = '';
  if (host.state === 'late' || host.state === 'down') {
    howLong = `no heartbeat for ${formatDuration(now - Date.parse(host.last_seen))}`;
  } else if (statusSince !== undefined) {
    howLong = `${host.status} for ${formatDuration(now - statusSince)}`;
  }
  return [host.name, what, howLong, host.msg ?? ''];
}

/**
 * When each up host's warn or fail began: its newest `status` event, else its first heartbeat when
 * its events hold none (it reported so from the start). Only for the first few such hosts, and
 * without a date when the events cannot be read: the date helps, the verdict does not need it.
 */
async function statusChanges(
  api: ApiConnection,
  problems: readonly HostJson[],
): Promise<Map<string, number>> {
  const toDate = problems.filter((host) => host.state === 'up').slice(0, MAX_DATED_STATUSES);
  const dated = await Promise.all(
    toDate.map(async (host): Promise<[string, number] | undefined> => {
      try {
        const path = `/api/events?host=${encodeURIComponent(host.name)}&limit=${EVENTS_SEARCHED}`;
        const events = await callApi<EventJson[]>(api.base, path, { headers: api.headers });
        const change = events.find((event) => event.kind === 'status');
        if (change) return [host.name, Date.parse(change.at)];
        if (events.length < EVENTS_SEARCHED) return [host.name, Date.parse(host.first_seen)];
      } catch {}
      return undefined;
    }),
  );
  return new Map(dated.filter((entry) => entry !== undefined));
}

/** Columns lined up, no trailing blanks, control characters shown rather than played. */
function alignRows(rows: readonly string[][]): string {
  const cells = rows.map((row) => row.map(escapeControlCharacters));
  const widths = cells[0]?.map((_, column) => Math.max(...cells.map((row) => row[column]!.length))) ?? [];
  return cells
    .map(
      (row) =>
        `${row
          .map((cell, column) => cell.padEnd(widths[column]!))
          .join('  ')
          .trimEnd()}\n`,
    )
    .join('');
}
