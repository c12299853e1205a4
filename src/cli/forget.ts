/** `hbd forget HOST`: removes a host from a running hbd, as an operator decides it is gone for good. */
import { Command } from 'commander';
import { escapeControlCharacters } from '../lib/inert-text.js';
import {
  ApiError,
  type ApiOptions,
  callApi,
  connectApi,
  reportApiFailure,
  withApiOptions,
} from './api-client.js';

export function forgetCommand(): Command {
  return withApiOptions(
    new Command('forget')
      .description('make a running hbd forget a host: its state and its place in the host list')
      .argument('<host>', 'the host, as `hbd hosts` shows it')
      .addHelpText(
        'after',
        `
Its events stay until the history's retention removes them. A host that sends another
heartbeat comes back as new. Needs the API token, as every write does.`,
      ),
  ).action((host: string, options: ApiOptions) => forget(host, options));
}

async function forget(host: string, options: ApiOptions): Promise<void> {
  const api = connectApi(options, 'forget');
  if (!api) return;
  try {
    const { forgotten } = await callApi<{ forgotten: string }>(
      api.base,
      `/api/hosts/${encodeURIComponent(host)}`,
      { method: 'DELETE', headers: api.headers },
    );
    process.stdout.write(`forgot ${forgotten}\n`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      process.stderr.write(
        `hbd: forget: hbd knows no host named "${escapeControlCharacters(host.toLowerCase())}" (see hbd hosts)\n`,
      );
      process.exitCode = 1;
      return;
    }
    reportApiFailure('forget failed', error);
  }
}
