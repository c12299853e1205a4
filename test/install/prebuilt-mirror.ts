import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SQLITE_DIR = fileURLToPath(new URL('../../node_modules/better-sqlite3/', import.meta.url));
const BINARY = 'build/Release/better_sqlite3.node';

/**
 * better-sqlite3's release downloads, served on 127.0.0.1 from the binary this checkout already
 * built. A user's `npm install -g` fetches a prebuilt binary in seconds; compiling SQLite instead
 * takes minutes on a small machine, so the install test points prebuild-install here through
 * `npm_config_better_sqlite3_binary_host`, the mirror setting prebuild-install documents.
 */
export interface PrebuiltMirror {
  /** The environment that sends prebuild-install here. */
  readonly env: Record<string, string>;
  /** The URL of every binary served. */
  readonly served: string[];
  /** Every request, served or not, to say what prebuild-install asked for when it was not served. */
  readonly requested: string[];
  /** Stops serving and removes the binaries served from prebuild-install's cache under `npmCaches`. */
  close(npmCaches: string[]): Promise<void>;
}

export async function startPrebuiltMirror(): Promise<PrebuiltMirror> {
  if (!existsSync(join(SQLITE_DIR, BINARY))) {
    throw new Error(`${join(SQLITE_DIR, BINARY)} is missing: run npm ci first`);
  }
  const { version } = JSON.parse(readFileSync(join(SQLITE_DIR, 'package.json'), 'utf8')) as {
    version: string;
  };
  const dir = mkdtempSync(join(tmpdir(), 'hbd-prebuilt-'));
  const archive = join(dir, 'prebuilt.tar.gz');
  // The layout of a prebuild release asset: the binary at the path the package loads it from.
  execFileSync('tar', ['-C', SQLITE_DIR, '-czf', archive, BINARY]);

  // prebuild-install asks for {host}/v{version}/better-sqlite3-v{version}-node-v{abi}-{platform}{libc}-{arch}.tar.gz;
  // only a binary for this very Node (ABI, platform, architecture) is served.
  const prefix = `/v${version}/better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}`;
  const suffix = `-${process.arch}.tar.gz`;
  const served: string[] = [];
  const requested: string[] = [];
  let url = '';
  const server = http.createServer((request, response) => {
    const path = request.url ?? '';
    requested.push(`${request.method} ${path}`);
    if (request.method !== 'GET' || !path.startsWith(prefix) || !path.endsWith(suffix)) {
      response.writeHead(404).end();
      return;
    }
    served.push(`${url}${path}`);
    response.writeHead(200, { 'content-type': 'application/gzip' });
    createReadStream(archive).pipe(response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    env: { npm_config_better_sqlite3_binary_host: url },
    served,
    requested,
    async close(npmCaches) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
      for (const cache of npmCaches) {
        for (const download of served) rmSync(cachedPrebuild(cache, download), { force: true });
        try {
          rmdirSync(join(cache, '_prebuilds')); // only when this left it empty
        } catch {}
      }
    },
  };
}

/** Where prebuild-install keeps a download (its util.js cachedPrebuild): the URL's port makes each run's unique. */
function cachedPrebuild(npmCache: string, url: string): string {
  const digest = createHash('sha512').update(url).digest('hex').slice(0, 6);
  const name = url.slice(url.lastIndexOf('/') + 1).replace(/[^a-zA-Z0-9.]+/g, '-');
  return join(npmCache, '_prebuilds', `${digest}-${name}`);
}
