import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runHbd } from '../helpers/cli.js';

// These run the built CLI (dist/) and hold it to docs/cli.md.

const doc = readFileSync(new URL('../../docs/cli.md', import.meta.url), 'utf8');

/** The commands `hbd --help` lists (its own `help` aside). */
async function commands(): Promise<string[]> {
  const { stdout } = await runHbd(['--help']);
  const listed = stdout.slice(stdout.indexOf('Commands:'));
  return [...listed.matchAll(/^ {2}([a-z-]+)/gm)].map((match) => match[1]!).filter((name) => name !== 'help');
}

describe('exit codes, as docs/cli.md promises them', () => {
  it('every command has a section in docs/cli.md', async () => {
    const documented = [...doc.matchAll(/^## `hbd ([a-z-]+)/gm)].map((match) => match[1]);
    const missing = (await commands()).filter((command) => !documented.includes(command));
    expect(missing).toEqual([]);
  });

  it('help and the version exit 0; bad usage exits 2 for every command, 3 for status', async () => {
    for (const name of await commands()) {
      // One command at a time: dozens of processes at once would crowd a small machine.
      const [help, bad] = await Promise.all([runHbd([name, '--help']), runHbd([name, '--no-such-option'])]);
      expect({ name, code: help.code }).toEqual({ name, code: 0 });
      expect({ name, code: bad.code }).toEqual({ name, code: name === 'status' ? 3 : 2 });
      expect(bad.stderr).toMatch(/unknown option '--no-such-option'/);
    }
  }, 120_000);

  it('a missing argument, a missing or unknown subcommand are bad usage too', async () => {
    const [noHost, noSubcommand, unknownCommand, unknownSubcommand, version, misspelt] = await Promise.all([
      runHbd(['forget']),
      runHbd(['dns']),
      runHbd(['no-such-command']),
      runHbd(['notify', 'no-such-thing']),
      runHbd(['--version']),
      runHbd(['statsu']),
    ]);
    expect(misspelt).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^error: unknown command 'statsu' \(did you mean status\?\)\n/),
    });
    expect(noHost).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/missing required argument 'host'/),
    });
    expect(noSubcommand.code).toBe(2);
    expect(noSubcommand.stderr).toMatch(/Usage: hbd dns/);
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toMatch(/^error: unknown command 'no-such-command'\n/);
    expect(unknownSubcommand.code).toBe(2);
    expect(version).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  });
});
