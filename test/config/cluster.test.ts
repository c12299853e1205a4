import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultNodeName } from '../../src/config/cluster-schema.js';
import { secretsReadableWarning } from '../../src/config/secret-file-mode.js';
import { parse, rejection } from './helpers.js';

describe('cluster:', () => {
  it('names the node after the machine by default, and takes a lease in seconds', () => {
    expect(parse(['cluster: {node: hbd2, lease: 4}']).config.cluster).toEqual({ node: 'hbd2', lease: 4 });
    expect(parse(['cluster: {lease: 4}']).config.cluster.node).toMatch(/^[a-z0-9-]+$/);
  });

  it('turns a machine name into a node name: its first label, lower-cased, other characters made -', () => {
    expect(defaultNodeName('DB1.example.net')).toBe('db1');
    expect(defaultNodeName('my_box')).toBe('my-box');
    expect(defaultNodeName('_')).toBe('hbd');
  });

  it('refuses a node name that could not be part of a host name, and a lease out of range', () => {
    expect(rejection(['cluster: {node: Node_A}']).problems.join('\n')).toMatch(
      /cluster\.node: expected a node name/,
    );
    expect(rejection(['cluster: {lease: 0.5}']).problems.join('\n')).toMatch(
      /cluster\.lease: expected a number of seconds from 1 to 3600/,
    );
  });

  it('warns of a key it does not know, like every section', () => {
    expect(parse(['cluster: {leese: 4}']).warnings.join('\n')).toMatch(/cluster\.leese.*cluster\.lease/);
  });
});

describe('a store URL with a password', () => {
  it('makes a config file that others can read worth a warning, in both forms', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hbd-store-url-'));
    const warning = (text: string) => {
      const file = join(dir, 'hbd.yaml');
      writeFileSync(file, text, { mode: 0o644 });
      chmodSync(file, 0o644);
      return secretsReadableWarning(file, 'hbd.yaml', text);
    };
    try {
      const url = 'postgresql://hbd:s3cret@db.example.net/hbd';
      expect(warning(`store: ${url}\n`)).toMatch(/holds secrets \(store\)/);
      expect(warning(`store: {driver: postgresql, url: "${url}"}\n`)).toMatch(/holds secrets \(store\.url\)/);
      expect(warning('store: postgresql://hbd@db.example.net/hbd\n')).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
