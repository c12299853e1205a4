import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/schema.js';
import { readTlsFiles } from '../config/tls-files.js';
import { httpsServerOptions, withHsts } from '../http/tls-options.js';
import type { UpgradeHandler } from '../ws/upgrade.js';

export interface HttpEndpoint {
  host: string;
  port: number;
  url: string;
}

/** The API's server, plain or TLS, listening; resolves once it listens. */
export async function listenHttp(
  config: Config,
  listener: http.RequestListener,
  onUpgrade: UpgradeHandler,
): Promise<http.Server> {
  // A ConfigError naming the file, not ENOENT with a stack, if a TLS file went missing since the check.
  const tls = readTlsFiles(config);
  const server = tls
    ? https.createServer(httpsServerOptions(tls), withHsts(listener))
    : http.createServer(listener);
  server.on('upgrade', onUpgrade);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.hbd_port, config.hbd_host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

export function endpointOf(server: http.Server, tls: boolean): HttpEndpoint {
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    host: address.address,
    port: address.port,
    url: `${tls ? 'https' : 'http'}://${host}:${address.port}`,
  };
}

/** Stops taking requests and ends open connections (keep-alive would hold `close` until they time out). */
export function closeHttp(server: http.Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  return closed;
}
