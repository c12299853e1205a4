import { join } from 'node:path';
import { stringify } from 'yaml';
import { parseConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';

/**
 * A bench daemon's config, read the way hbd reads hb.yaml: loopback on any free ports, its
 * state in `dir`, warnings and worse logged, then `extra`.
 */
export function benchConfig(dir: string, extra: Record<string, unknown>): Config {
  const text = stringify({
    hb_host: '127.0.0.1',
    hb_port: 0,
    hbd_host: '127.0.0.1',
    hbd_port: 0,
    pickfile: join(dir, 'state.sqlite'),
    log_level: 'warn',
    ...extra,
  });
  return parseConfig(text, { sourceName: 'bench.yaml', baseDir: dir, env: {}, home: dir }).config;
}
