import { Command } from 'commander';
import { type ApiOptions, callApi, connectApi, reportApiFailure, withApiOptions } from './api-client.js';

export function dnsCommand(): Command {
  const dns = new Command('dns').description('dynamic DNS of a running hbd');
  withApiOptions(
    dns
      .command('sync')
      .description('re-send the DNS records of one host, or of every host, now')
      .argument('[host]', 'the host (default: every host with published records)'),
  ).action((host: string | undefined, options: ApiOptions) => sync(host, options));
  return dns;
}

async function sync(host: string | undefined, options: ApiOptions): Promise<void> {
  const api = connectApi(options, 'dns sync');
  if (!api) return;
  const query = host === undefined ? '' : `?host=${encodeURIComponent(host)}`;
  try {
    const answer = await callApi<{ queued: number }>(api.base, `/api/dns/sync${query}`, {
      method: 'POST',
      headers: api.headers,
    });
    process.stdout.write(`queued ${answer.queued} host(s) for a DNS update\n`);
  } catch (error) {
    reportApiFailure('dns sync failed', error);
  }
}
