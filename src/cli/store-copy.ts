/** `hbd store copy`: moves a node's whole state from one store to another (SQLite to PostgreSQL, say). */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { CopyRefusedError, copyStore } from '../store/copy.js';
import { STORE_DRIVERS, type StoreSpec } from '../store/drivers.js';
import { TRANSFER_KINDS } from '../store/transfer.js';
import { schemeOf, urlWithoutPassword } from '../store/url.js';
import { CONFIG_EXIT_CODE } from './config-loading.js';

export function storeCommand(): Command {
  return new Command('store').description("work on hbd's store while hbd is stopped").addCommand(
    new Command('copy')
      .description("copy a node's whole state from one store into another, empty one")
      .requiredOption('--from <store>', 'a SQLite state file, or a store URL (postgresql://…)')
      .requiredOption('--to <store>', 'a store URL (postgresql://user:password@host/db), or a SQLite file')
      .option('--force', 'replace whatever the target holds')
      .addHelpText(
        'after',
        `
Copies hosts (with their timing and last signed ts), events, notification triggers,
the outbox in every state, what was announced, silences, sessions, pings and DNS state,
in one transaction of the target. Stop hbd first: it must not run on either store.
A target that holds anything is refused unless --force.`,
      )
      .action((options: { from: string; to: string; force?: boolean }) => copy(options)),
  );
}

async function copy(options: { from: string; to: string; force?: boolean }): Promise<void> {
  const fail = (message: string, code = 1) => {
    process.stderr.write(`hbd: store copy: ${message}\n`);
    process.exitCode = code;
  };
  const from = specOf(options.from);
  const to = specOf(options.to);
  // Neither a file nor a store URL: bad usage.
  if (typeof from === 'string') return fail(`--from: ${from}`, CONFIG_EXIT_CODE);
  if (typeof to === 'string') return fail(`--to: ${to}`, CONFIG_EXIT_CODE);
  if (from.driver === 'sqlite' && !existsSync(String(from.options.path))) {
    return fail(`--from: there is no state file ${String(from.options.path)}`);
  }
  try {
    const {
      from: source,
      to: target,
      copied,
    } = await copyStore(from, to, {
      force: options.force === true,
      context: {
        // Every row is copied: no limit trims the events on the way.
        eventLimits: () => ({ maxEvents: Number.MAX_SAFE_INTEGER, perHost: Number.MAX_SAFE_INTEGER }),
        warn: (message) => process.stderr.write(`hbd: store copy: warning: ${message}\n`),
      },
    });
    const width = Math.max(...TRANSFER_KINDS.map((kind) => kind.length));
    process.stdout.write(
      `copied ${source} to ${target}:\n${TRANSFER_KINDS.map((kind) => `  ${kind.padEnd(width)}  ${copied[kind]}\n`).join('')}`,
    );
  } catch (error) {
    // Error messages name stores by their location: never a password.
    fail(error instanceof CopyRefusedError ? error.message : (error as Error).message);
  }
}

/** A store as `--from`/`--to` name it: a URL of a driver's scheme, or a SQLite file; else what is wrong. */
function specOf(text: string): StoreSpec | string {
  const scheme = schemeOf(text);
  if (scheme === undefined) return { driver: 'sqlite', options: { path: resolve(text) } };
  const driver = STORE_DRIVERS.find((candidate) => candidate.urlSchemes?.includes(scheme));
  if (!driver) {
    const schemes = STORE_DRIVERS.flatMap((candidate) => candidate.urlSchemes ?? []);
    return `${urlWithoutPassword(text) ?? 'the URL'} is no store URL (expected ${schemes.map((s) => `${s}://`).join(' or ')}, or a file)`;
  }
  return { driver: driver.name, options: { url: text } };
}
