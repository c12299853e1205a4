import type { Command } from 'commander';
import type { Config } from '../config/schema.js';
import { loadConfigOrExit } from './config-loading.js';

/** Where a running hbd's API is, from its config: a wildcard bind is reached on loopback. */
export function apiBaseUrl(config: Pick<Config, 'hbd_host' | 'hbd_port' | 'tls_cert'>): string {
  const host = ['::', '0.0.0.0', ''].includes(config.hbd_host) ? '127.0.0.1' : config.hbd_host;
  const shown = host.includes(':') ? `[${host}]` : host;
  return `${config.tls_cert ? 'https' : 'http'}://${shown}:${config.hbd_port}`;
}

/** Calls the API; a non-2xx answer becomes an Error carrying hbd's own message. */
export async function callApi<T>(base: string, path: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(new URL(path, base), { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  if (!response.ok) {
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {}
    throw new Error(`${response.status}: ${message}`);
  }
  return JSON.parse(text) as T;
}

/** The options every command that talks to a running hbd takes. */
export interface ApiOptions {
  config?: string;
  url?: string;
  token?: string;
}

export interface ApiConnection {
  base: string;
  headers: Record<string, string>;
}

/** Adds --config, --url and --token, worded the same for every command that calls the API. */
export function withApiOptions(command: Command): Command {
  return command
    .option('-c, --config <file>', 'config file, for the API address and api_token')
    .option('--url <url>', 'API base URL, e.g. http://127.0.0.1:50004 (overrides the config)')
    .option('--token <token>', 'API token (default: $HBD_API_TOKEN, else api_token from the config)');
}

/**
 * Where the API is and the headers to send. With `needsTokenFor` (the command's name), a missing
 * token is a usage error (exit 2, undefined returned); otherwise the token is sent when there is
 * one, since reads need it when the daemon requires a login. The config is read only when needed.
 */
export function connectApi(options: ApiOptions, needsTokenFor?: string): ApiConnection | undefined {
  // An empty $HBD_API_TOKEN is as good as unset, so the config's token still counts.
  const givenToken = options.token || process.env.HBD_API_TOKEN;
  const config = options.url && givenToken ? undefined : loadConfigOrExit(options.config).config;
  const base = options.url ?? apiBaseUrl(config!);
  // A read needs no more than the read token; a write needs api_token.
  const token = givenToken || config?.api_token || (needsTokenFor ? undefined : config?.read_token);
  if (!token && needsTokenFor) {
    usageError(`${needsTokenFor} needs the API token: --token, $HBD_API_TOKEN, or api_token in the config`);
    return undefined;
  }
  return { base, headers: token ? { authorization: `Bearer ${token}` } : {} };
}

export function usageError(message: string): void {
  process.stderr.write(`hbd: ${message}\n`);
  process.exitCode = 2;
}
