import type { Config } from '../config/schema.js';

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
