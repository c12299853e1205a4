import { readFileSync } from 'node:fs';

/**
 * hbd's own version, from the package.json it was installed with (two levels up from both
 * `src/cli/` and `dist/cli/`). Not `npm_package_version`: under `npx` or an npm script that is
 * the version of whatever package the shell stands in.
 */
export function hbdVersion(): string {
  const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return packageJson.version;
}
