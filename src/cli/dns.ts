import { Command } from 'commander';
import { apiBaseUrl, callApi } from './api-client.js';
import { loadConfigOrExit } from './config-loading.js';

interface SyncOptions {
  config?: string;
  url?: string;
  token?: string;
}

export function dnsCommand(): Command {
  const dns = new Command('dns').description('dynamic DNS of a running hbd');
  dns
    .command('sync')
    .description('re-send the DNS records of one host, or of every host, now')
    .argument('[host]', 'the host (default: every host with published records)')
    .option('-c, --config <file>', 'config file, for the API address and api_token')
    .option('--url <url>', 'API base URL, e.g. http://127.0.0.1:50004 (overrides the config)')
    .option('--token <token>', 'API token (default: $HBD_API_TOKEN, else api_token from the config)')
    .action((host: string | undefined, options: SyncOptions) => sync(host, options));
  return dns;
}

async function sync(host: string | undefined, options: SyncOptions): Promise<void> {
  const config =
    options.url && (options.token ?? process.env.HBD_API_TOKEN)
      ? undefined
      : loadConfigOrExit(options.config).config;
  const base = options.url ?? apiBaseUrl(config!);
  const token = options.token ?? process.env.HBD_API_TOKEN ?? config?.api_token;
  if (!token) {
    process.stderr.write(
      'hbd: dns sync needs the API token: --token, $HBD_API_TOKEN, or api_token in the config\n',
    );
    process.exitCode = 2;
    return;
  }
  const query = host === undefined ? '' : `?host=${encodeURIComponent(host)}`;
  try {
    const answer = await callApi<{ queued: number }>(base, `/api/dns/sync${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    process.stdout.write(`queued ${answer.queued} host(s) for a DNS update\n`);
  } catch (error) {
    process.stderr.write(`hbd: dns sync failed: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
