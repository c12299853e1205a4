import type { Command } from 'commander';
import type { Config } from '../config/schema.js';
import { errorMessage } from '../lib/error-message.js';
import { escapeControlCharacters } from '../lib/inert-text.js';
import { ApiUnreachable, displayBase, URL_HINT, unreachableMessage } from './api-unreachable.js';
import { CONFIG_EXIT_CODE, loadConfigOrExit } from './config-loading.js';

/** Where a running hbd's API is, from its config: a wildcard bind is reached on loopback. */
export function apiBaseUrl(config: Pick<Config, 'hbd_host' | 'hbd_port' | 'tls_cert'>): string {
  const host = ['::', '0.0.0.0', ''].includes(config.hbd_host) ? '127.0.0.1' : config.hbd_host;
  const shown = host.includes(':') ? `[${host}]` : host;
  return `${config.tls_cert ? 'https' : 'http'}://${shown}:${config.hbd_port}`;
}

/** How long a command waits for hbd's answer. */
export const API_TIMEOUT_MS = 10_000;

/** hbd answered, with an error: `status` says which, the message is hbd's own. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: number;

  constructor(status: number, message: string) {
    super(`${status}: ${message}`);
    this.status = status;
  }
}

/**
 * Calls the API. No answer at all becomes an ApiUnreachable saying why in an operator's words; a
 * non-2xx answer an ApiError carrying hbd's own message.
 */
export async function callApi<T>(base: string, path: string, init: RequestInit = {}): Promise<T> {
  let response: Response;
  let text: string;
  try {
    response = await fetch(new URL(path, base), { ...init, signal: AbortSignal.timeout(API_TIMEOUT_MS) });
    text = await response.text();
  } catch (error) {
    throw new ApiUnreachable(unreachableMessage(base, error, API_TIMEOUT_MS));
  }
  if (!response.ok) {
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {}
    throw new ApiError(response.status, message);
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    // Another web server at that address answers 200 with a page.
    throw new ApiUnreachable(
      `cannot reach hbd at ${displayBase(base)}: what answers there is not hbd (it did not answer JSON; ${URL_HINT})`,
    );
  }
}

/**
 * Says on stderr why a call failed, and sets the exit code (1 unless the command has its own).
 * An unreachable hbd gets its one line as it is; hbd's own refusals are prefixed with what failed.
 */
export function reportApiFailure(what: string, error: unknown, exitCode = 1): void {
  // What comes back from the address asked may be anyone's words: it stays one inert line.
  const message = escapeControlCharacters(errorMessage(error));
  process.stderr.write(error instanceof ApiUnreachable ? `${message}\n` : `hbd: ${what}: ${message}\n`);
  process.exitCode = exitCode;
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
 * token is a usage error (undefined returned); otherwise the token is sent when there is one,
 * since reads need it when the daemon requires a login. The config is read only when needed. A bad
 * config or a missing token exits with `usageExitCode`: 2, as for every command, but `hbd status`
 * keeps 2 for "down" and says 3.
 */
export function connectApi(
  options: ApiOptions,
  needsTokenFor?: string,
  usageExitCode = CONFIG_EXIT_CODE,
): ApiConnection | undefined {
  // An empty $HBD_API_TOKEN is as good as unset, so the config's token still counts.
  const givenToken = options.token || process.env.HBD_API_TOKEN;
  const config =
    options.url && givenToken ? undefined : loadConfigOrExit(options.config, usageExitCode).config;
  const base = options.url ?? apiBaseUrl(config!);
  // A read needs no more than the read token; a write needs api_token.
  const token = givenToken || config?.api_token || (needsTokenFor ? undefined : config?.read_token);
  if (!token && needsTokenFor) {
    usageError(
      `${needsTokenFor} needs the API token: --token, $HBD_API_TOKEN, or api_token in the config`,
      usageExitCode,
    );
    return undefined;
  }
  return { base, headers: token ? { authorization: `Bearer ${token}` } : {} };
}

export function usageError(message: string, exitCode = CONFIG_EXIT_CODE): void {
  process.stderr.write(`hbd: ${message}\n`);
  process.exitCode = exitCode;
}
