import { isIP } from 'node:net';
import type { Config } from './schema.js';

/**
 * A warning when logins are served over plain HTTP beyond loopback: every password typed and every
 * session cookie then crosses the network readable by whoever is on the path.
 */
export function plainHttpLoginsWarning(
  config: Pick<Config, 'auth_users' | 'tls_cert' | 'hbd_host'>,
): string | undefined {
  if (Object.keys(config.auth_users).length === 0 || config.tls_cert !== null) return undefined;
  if (isLoopback(config.hbd_host)) return undefined;
  return (
    `auth_users: logins are served over plain HTTP on hbd_host ${JSON.stringify(config.hbd_host)}, ` +
    'beyond loopback: passwords and session cookies cross the network in clear text; set tls_cert ' +
    'and tls_key, or set hbd_host: 127.0.0.1 behind a reverse proxy that serves HTTPS'
  );
}

function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  const v4 = bare.replace(/^::ffff:/, '');
  return isIP(v4) === 4 && v4.startsWith('127.');
}
