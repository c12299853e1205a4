import { Command } from 'commander';
import type { HostJson } from '../http/host-json.js';
import { type ApiOptions, callApi, connectApi, reportApiFailure, withApiOptions } from './api-client.js';
import { displayBase } from './api-unreachable.js';
import { formatTable } from './table.js';

interface HostsOptions extends ApiOptions {
  json?: boolean;
  state?: string;
  status?: string;
  name?: string;
}

export function hostsCommand(): Command {
  return withApiOptions(
    new Command('hosts')
      .description('print the hosts a running hbd knows, from its API')
      .option('--json', 'print the API answer as JSON')
      .option('--state <states>', 'only hosts in these states, comma-separated: up, late, down, left')
      .option('--status <statuses>', 'only hosts whose last status is one of these: ok, warn, fail, bye')
      .option('--name <glob>', 'only hosts whose name matches, such as "web*"'),
  ).action((options: HostsOptions) => printHosts(options));
}

async function printHosts(options: HostsOptions): Promise<void> {
  // The token goes along when there is one: a daemon with `read_access: login` needs it to read.
  const api = connectApi(options)!;
  let hosts: HostJson[];
  try {
    hosts = await callApi<HostJson[]>(api.base, `/api/hosts${filterQuery(options)}`, {
      headers: api.headers,
    });
  } catch (error) {
    reportApiFailure(`cannot read hosts from ${displayBase(api.base)}`, error);
    return;
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify(hosts, null, 2)}\n`);
    return;
  }
  process.stdout.write(formatHostTable(hosts, Date.now()));
}

/** The filters as the API takes them; hbd checks them and says what is wrong. */
function filterQuery({ state, status, name }: HostsOptions): string {
  const query = new URLSearchParams();
  if (state !== undefined) query.set('state', state);
  if (status !== undefined) query.set('status', status);
  if (name !== undefined) query.set('name', name);
  const text = query.toString();
  return text === '' ? '' : `?${text}`;
}

export function formatHostTable(hosts: readonly HostJson[], now: number): string {
  const header = ['HOST', 'STATE', 'STATUS', 'ADDRESS', 'LAST SEEN', 'MESSAGE'];
  const rows = hosts.map((host) => [
    host.name,
    host.state,
    host.status,
    host.addr,
    `${ago(now - Date.parse(host.last_seen))} ago`,
    host.msg ?? '',
  ]);
  return formatTable(header, rows, 'host');
}

function ago(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}
