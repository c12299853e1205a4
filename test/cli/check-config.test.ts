import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runHbd, useHbdSandbox } from '../helpers/cli.js';

// These run the built CLI (dist/).

const sandbox = useHbdSandbox('hbd-check-config-');

function writeConfig(lines: string[]): string {
  const path = join(sandbox.dir, 'hb.yaml');
  writeFileSync(path, `${lines.join('\n')}\n`, { mode: 0o600 });
  return path;
}

/** What hbd printed, naming the config file as `hb.yaml` rather than by its temporary path. */
function shortNames(text: string): string {
  return text.replaceAll(join(sandbox.dir, 'hb.yaml'), 'hb.yaml');
}

/** The problem lines of `hbd: the config has N problem(s):`, without their indent. */
function problemLines(stderr: string): string[] {
  return shortNames(stderr)
    .split('\n')
    .filter((line) => line.startsWith('  '))
    .map((line) => line.trim());
}

describe('hbd check-config', () => {
  it('lists problems in the order of the file, each once, with a "did you mean" for a misspelt value', async () => {
    // The schema checks store and dns before logfmt and interval: the list follows the file instead.
    const config = writeConfig([
      'logfmt: jsn',
      'interval: soon',
      'log_level: WARN',
      'auth: maybe',
      'dns: {method: nsupdat}',
      'unsigned_networks: [nowhere, nowhere]',
      'notify:',
      '  signal: {url: "http://127.0.0.1:8080", account: "+4915112345678", api: jsonrcp}',
    ]);
    const result = await runHbd(['check-config', '-c', config]);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe('hbd: the config has 8 problem(s):');
    expect(problemLines(result.stderr)).toEqual([
      'hb.yaml:1: logfmt: expected one of text, json, got "jsn"; did you mean "json"?',
      'hb.yaml:2: interval: expected a number of seconds greater than 0, got "soon"',
      'hb.yaml:3: log_level: expected one of debug, info, warn, error, got "WARN"; did you mean "warn"?',
      // Nothing close enough to guess at.
      'hb.yaml:4: auth: expected one of off, optional, required, got "maybe"',
      'hb.yaml:5: dns.method: expected one of rfc2136, nsupdate, got "nsupdat"; did you mean "nsupdate"?',
      expect.stringMatching(/^hb\.yaml:6: unsigned_networks\[0\]: "nowhere": expected a network/),
      expect.stringMatching(/^hb\.yaml:6: unsigned_networks\[1\]: "nowhere": expected a network/),
      'hb.yaml:8: notify.signal.api: expected one of jsonrpc, rest, got "jsonrcp"; did you mean "jsonrpc"?',
    ]);
    expect(new Set(problemLines(result.stderr)).size).toBe(8);
  });

  it('names the line of a file that serve would trip on, in line order with the rest', async () => {
    const config = writeConfig([
      'dyndomains: [dyn.example.test]',
      'dns: {tsig_file: missing.key}',
      'interval: 30',
      `tls_cert: ${join(sandbox.dir, 'nowhere', 'cert.pem')}`,
      `tls_key: ${join(sandbox.dir, 'nowhere', 'key.pem')}`,
    ]);
    const result = await runHbd(['check-config', '-c', config]);
    expect(result.code).toBe(2);
    expect(problemLines(result.stderr)).toEqual([
      expect.stringMatching(/^hb\.yaml:2: dns\.tsig_file: cannot read .*missing\.key/),
      expect.stringMatching(/^hb\.yaml:4: tls_cert: cannot read .*cert\.pem \(no such file\)$/),
      expect.stringMatching(/^hb\.yaml:5: tls_key: cannot read .*key\.pem \(no such file\)$/),
    ]);
  });

  it('warns about unknown keys, and with --strict refuses them, in line order with the other problems', async () => {
    const config = writeConfig(['hb_port: 6000', 'hb_prot: 7000', 'history: {day: 7}', 'colour: blue']);
    const lenient = await runHbd(['check-config', '-c', config]);
    expect(lenient.code).toBe(0);
    expect(lenient.stdout).toMatch(/^ok: /);
    expect(shortNames(lenient.stderr)).toBe(
      [
        'warning: hb.yaml:2: unknown key "hb_prot" (ignored); did you mean "hb_port"?',
        'warning: hb.yaml:3: unknown key "history.day" (ignored); did you mean "history.days"?',
        'warning: hb.yaml:4: unknown key "colour" (ignored)',
        '',
      ].join('\n'),
    );

    const strict = await runHbd(['check-config', '--strict', '-c', config]);
    expect({ ...strict, stderr: shortNames(strict.stderr) }).toEqual({
      code: 2,
      stdout: '',
      stderr: [
        'hbd: the config has 3 problem(s):',
        '  hb.yaml:2: unknown key "hb_prot"; did you mean "hb_port"?',
        '  hb.yaml:3: unknown key "history.day"; did you mean "history.days"?',
        '  hb.yaml:4: unknown key "colour"',
        '',
      ].join('\n'),
    });

    writeConfig(['hb_prot: 7000', 'interval: 0']);
    expect(problemLines((await runHbd(['check-config', '--strict', '-c', config])).stderr)).toEqual([
      'hb.yaml:1: unknown key "hb_prot"; did you mean "hb_port"?',
      'hb.yaml:2: interval: expected a number of seconds greater than 0, got 0',
    ]);
    writeConfig(['hb_port: 6000']);
    expect(await runHbd(['check-config', '--strict', '-c', config])).toMatchObject({ code: 0, stderr: '' });
  });
});
