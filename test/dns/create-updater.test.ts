import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { dnsUpdaterSettingsOf } from '../../src/daemon/dns-settings.js';
import { createUpdater as createFromSettings } from '../../src/dns/create-updater.js';
import type { DnsUpdater, UpdateRequest } from '../../src/dns/update-types.js';

const SECRET = 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg==';
const REQUEST: UpdateRequest = {
  zone: 'dyn.example.test',
  changes: [{ name: 'web.dyn.example.test', type: 'A', address: '192.0.2.7', ttl: 60 }],
};

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hbd-create-updater-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The updater the daemon builds for this config. */
function createUpdater(cfg: Config) {
  return createFromSettings(...dnsUpdaterSettingsOf(cfg));
}

function config(dns: Record<string, unknown>, extra: Record<string, unknown> = {}): Config {
  const text = stringify({ ...extra, dns });
  return parseConfig(text, { sourceName: 'test.yaml', baseDir: dir, env: {}, home: dir }).config;
}

function keygen(file: string, ...args: string[]): string {
  const text = execFileSync('/usr/sbin/tsig-keygen', args, { encoding: 'utf8' });
  writeFileSync(join(dir, file), text, { mode: 0o600 });
  return text;
}

function creationError(cfg: Config): string {
  try {
    createUpdater(cfg);
  } catch (err) {
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('Error');
    expect((err as Error).message).not.toContain(SECRET);
    return (err as Error).message;
  }
  throw new Error('expected createUpdater to throw');
}

/** Sends REQUEST to a local UDP socket and returns the first datagram; the update itself is aborted. */
async function capture(make: (port: number) => DnsUpdater): Promise<Buffer> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  try {
    const received = new Promise<Buffer>((resolve) => socket.once('message', resolve));
    const controller = new AbortController();
    const updating = make(socket.address().port).update(REQUEST, controller.signal);
    updating.catch(() => {});
    const message = await received;
    controller.abort(new Error('done'));
    await expect(updating).rejects.toThrow('done');
    return message;
  } finally {
    socket.close();
  }
}

/** A stand-in nsupdate that records its argv and stdin, then succeeds. */
function fakeNsupdate(): { binary: string; argv(): string; stdin(): string } {
  const binary = join(dir, 'nsupdate');
  writeFileSync(
    binary,
    `#!/bin/sh\n: > "${dir}/argv"\nfor a in "$@"; do printf '%s\\n' "$a" >> "${dir}/argv"; done\ncat > "${dir}/stdin"\n`,
  );
  chmodSync(binary, 0o755);
  return {
    binary,
    argv: () => readFileSync(join(dir, 'argv'), 'utf8'),
    stdin: () => readFileSync(join(dir, 'stdin'), 'utf8'),
  };
}

function arcount(message: Buffer): number {
  return message.readUInt16BE(10);
}

describe('createUpdater', () => {
  it('builds the native updater by default, unsigned without a key', async () => {
    const cfg = config({});
    expect(cfg.dns.method).toBe('rfc2136');
    expect(createUpdater(cfg).method).toBe('rfc2136');
    const message = await capture((port) => createUpdater(config({ port })));
    expect(arcount(message)).toBe(0);
  });

  it('signs native updates with tsig_name + tsig_secret + tsig_algorithm', async () => {
    const message = await capture((port) =>
      createUpdater(
        config({ port, tsig_name: 'hbd-key', tsig_secret: SECRET, tsig_algorithm: 'hmac-sha512' }),
      ),
    );
    expect(arcount(message)).toBe(1);
    expect(message.includes(Buffer.from('\x07hbd-key\x00', 'latin1'))).toBe(true);
    expect(message.includes(Buffer.from('\x0bhmac-sha512\x00', 'latin1'))).toBe(true);
  });

  it('signs native updates with the key from tsig_file, picked by tsig_name when given', async () => {
    writeFileSync(
      join(dir, 'hb.key'),
      execFileSync('/usr/sbin/tsig-keygen', ['-a', 'hmac-sha384', 'first'], { encoding: 'utf8' }) +
        execFileSync('/usr/sbin/tsig-keygen', ['-a', 'hmac-sha224', 'second'], { encoding: 'utf8' }),
    );
    const first = await capture((port) => createUpdater(config({ port, tsig_file: 'hb.key' })));
    expect(first.includes(Buffer.from('\x05first\x00', 'latin1'))).toBe(true);
    expect(first.includes(Buffer.from('\x0bhmac-sha384\x00', 'latin1'))).toBe(true);
    const second = await capture((port) =>
      createUpdater(config({ port, tsig_file: 'hb.key', tsig_name: 'second' })),
    );
    expect(second.includes(Buffer.from('\x06second\x00', 'latin1'))).toBe(true);
    expect(second.includes(Buffer.from('\x0bhmac-sha224\x00', 'latin1'))).toBe(true);
  });

  it('builds the nsupdate updater with nsupdate_bin and the key on stdin', async () => {
    const fake = fakeNsupdate();
    const updater = createUpdater(
      config(
        { method: 'nsupdate', tsig_name: 'hbd-key', tsig_secret: SECRET },
        { nsupdate_bin: fake.binary },
      ),
    );
    expect(updater.method).toBe('nsupdate');
    await updater.update(REQUEST);
    expect(fake.argv()).not.toContain(SECRET);
    expect(fake.stdin()).toContain(`key hmac-sha256:hbd-key ${SECRET}\n`);
    expect(fake.stdin()).toContain('server 127.0.0.1 53\n');
  });

  it('passes tsig_file to nsupdate as -k so the secret never leaves the file', async () => {
    const text = keygen('hb.key', '-a', 'hmac-sha512', 'hbd-key');
    const secret = /secret "([^"]+)"/.exec(text)?.[1] ?? '';
    const fake = fakeNsupdate();
    const updater = createUpdater(
      config({ method: 'nsupdate', tsig_file: 'hb.key' }, { nsupdate_bin: fake.binary }),
    );
    expect(updater.method).toBe('nsupdate');
    await updater.update(REQUEST);
    expect(fake.argv()).toBe(`-k\n${join(dir, 'hb.key')}\n`);
    expect(fake.stdin()).not.toContain('key ');
    expect(fake.stdin()).not.toContain(secret);
  });

  it('sends unsigned nsupdate scripts without a key', async () => {
    const fake = fakeNsupdate();
    await createUpdater(config({ method: 'nsupdate' }, { nsupdate_bin: fake.binary })).update(REQUEST);
    expect(fake.argv()).toBe('');
    expect(fake.stdin()).not.toContain('key ');
  });

  it('wants tsig_name and tsig_secret together, naming both', () => {
    expect(creationError(config({ tsig_secret: SECRET }))).toBe(
      'dns.tsig_secret is set but dns.tsig_name is not: give both, or dns.tsig_file',
    );
    expect(creationError(config({ tsig_name: 'hbd-key' }))).toBe(
      'dns.tsig_name is set but dns.tsig_secret is not: give both, or dns.tsig_file',
    );
  });

  it('checks tsig_name and tsig_secret without echoing the secret', () => {
    expect(creationError(config({ tsig_name: 'bad name', tsig_secret: SECRET }))).toMatch(
      /^dns\.tsig_name: key name "bad name" is not a valid DNS name/,
    );
    expect(creationError(config({ tsig_name: 'k', tsig_secret: `${SECRET}!` }))).toBe(
      'dns.tsig_secret: expected a base64 secret (as tsig-keygen prints it)',
    );
  });

  it('names dns.tsig_file in errors about the file', () => {
    const missing = join(dir, 'missing.key');
    expect(creationError(config({ tsig_file: 'missing.key' }))).toBe(
      `dns.tsig_file: cannot read ${missing} (ENOENT)`,
    );
    writeFileSync(join(dir, 'bad.key'), 'key "k" {\n  algorithm hmac-foo;\n  secret "AAAA";\n};\n');
    expect(creationError(config({ tsig_file: 'bad.key' }))).toMatch(
      new RegExp(`^dns\\.tsig_file: ${join(dir, 'bad.key')}:2: algorithm hmac-foo is not supported`),
    );
    writeFileSync(join(dir, 'empty.key'), '# nothing here\n');
    expect(creationError(config({ tsig_file: 'empty.key' }))).toBe(
      `dns.tsig_file: ${join(dir, 'empty.key')}: no key block found`,
    );
  });

  it('rejects tsig_file with tsig_secret, and a tsig_name the file does not hold', () => {
    keygen('hb.key', 'hbd-key');
    expect(creationError(config({ tsig_file: 'hb.key', tsig_name: 'k', tsig_secret: SECRET }))).toBe(
      'dns.tsig_file and dns.tsig_secret are both set: give the key one way only',
    );
    expect(creationError(config({ tsig_file: 'hb.key', tsig_name: 'other' }))).toBe(
      `dns.tsig_name: ${join(dir, 'hb.key')}: no key named "other" (the file has "hbd-key")`,
    );
  });

  it('refuses a several-key file for nsupdate, which would then send unsigned', () => {
    writeFileSync(
      join(dir, 'two.key'),
      execFileSync('/usr/sbin/tsig-keygen', ['a'], { encoding: 'utf8' }) +
        execFileSync('/usr/sbin/tsig-keygen', ['b'], { encoding: 'utf8' }),
    );
    expect(creationError(config({ method: 'nsupdate', tsig_file: 'two.key' }))).toBe(
      `dns.tsig_file: ${join(dir, 'two.key')} holds 2 keys, but nsupdate reads only a file with exactly one`,
    );
    expect(createUpdater(config({ tsig_file: 'two.key' })).method).toBe('rfc2136');
  });

  it('names dns.server when nsupdate cannot take the server address', () => {
    expect(creationError(config({ method: 'nsupdate', server: 'bad host!' }))).toMatch(
      /^dns\.server: server host "bad host!" is not a valid DNS name/,
    );
  });
});
