import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const UNITS_DIR = fileURLToPath(new URL('../../contrib/systemd/', import.meta.url));

/** The unit files hbd ships: every `*.service` in contrib/systemd. */
export function shippedUnits(): string[] {
  return readdirSync(UNITS_DIR)
    .filter((name) => name.endsWith('.service'))
    .sort();
}

/** The settings of one section of a unit file, in order; a key set twice (ExecReload=) appears twice. */
export function unitSettings(name: string, section: string): [key: string, value: string][] {
  const settings: [string, string][] = [];
  let current = '';
  for (const raw of readFileSync(join(UNITS_DIR, name), 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      current = line.slice(1, -1);
      continue;
    }
    const equals = line.indexOf('=');
    if (current === section && equals > 0) settings.push([line.slice(0, equals), line.slice(equals + 1)]);
  }
  return settings;
}

/** Every value of `key` in [Service]. */
export function serviceValues(name: string, key: string): string[] {
  return unitSettings(name, 'Service')
    .filter(([k]) => k === key)
    .map(([, value]) => value);
}

/**
 * An Exec*= line as the argv systemd would run, with `$VAR` and `${VAR}` replaced from `vars` and
 * each executable given by absolute path mapped through `programs`. hbd's units use neither quotes
 * nor Exec prefixes (`-`, `+`, `@`…), so this refuses them rather than half-supporting them.
 */
export function commandLine(
  line: string,
  vars: Record<string, string>,
  programs: Record<string, string>,
): string[] {
  if (/["'\\]/.test(line) || /^[-+@:!|]/.test(line)) throw new Error(`unsupported command line: ${line}`);
  const argv = line.split(/\s+/).map((word) =>
    word.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, braced: string | undefined, bare: string | undefined) => {
      const name = (braced ?? bare) as string;
      const value = vars[name];
      if (value === undefined) throw new Error(`no value for $${name} in: ${line}`);
      return value;
    }),
  );
  const [program, ...args] = argv;
  const mapped = programs[program ?? ''];
  if (mapped === undefined) throw new Error(`the test does not know where to find ${program}`);
  return [mapped, ...args];
}

/** The environment a unit's Environment= lines set. */
export function unitEnvironment(name: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const assignment of serviceValues(name, 'Environment').flatMap((value) => value.split(/\s+/))) {
    const equals = assignment.indexOf('=');
    env[assignment.slice(0, equals)] = assignment.slice(equals + 1);
  }
  return env;
}
