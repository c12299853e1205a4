import { Command } from 'commander';
import type { HostJson } from '../http/host-json.js';
import { apiBaseUrl, callApi } from './api-client.js';
import { loadConfigOrExit } from './config-loading.js';

interface HostsOptions {
  config?: string;
  url?: string;
  json?: boolean;
}

export function hostsCommand(): Command {
  return new Command('hosts')
    .description('print the hosts a running hbd knows, from its API')
    .option('-c, --config <file>', 'config file, to find the API address (hbd_host, hbd_port, tls_cert)')
    .option('--url <url>', 'API base URL, e.g. http://127.0.0.1:50004 (overrides the config)')
    .option('--json', 'print the API answer as JSON')
    .action((options: HostsOptions) => printHosts(options));
}

async function printHosts(options: HostsOptions): Promise<void> {
  const base = options.url ?? apiBaseUrl(loadConfigOrExit(options.config).config);
  let hosts: HostJson[];
  try {
    hosts = await callApi<HostJson[]>(base, '/api/hosts');
  } catch (error) {
    process.stderr.write(`hbd: cannot read hosts from ${base}: ${(error as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify(hosts, null, 2)}\n`);
    return;
  }
  process.stdout.write(formatHostTable(hosts, Date.now()));
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
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: string[]) =>
    `${cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd()}\n`;
  return `${[header, ...rows].map(line).join('')}${hosts.length} host(s)\n`;
}

function ago(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}
