import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface PromtoolRun {
  code: number;
  /** stdout and stderr together: promtool prints its findings on either. */
  output: string;
}

/**
 * promtool's path, or undefined outside CI when it is not installed. In CI (`CI=true`) a missing
 * promtool fails: the Prometheus tests never pass there by not running.
 */
export function findPromtool(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'promtool');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  if (process.env.CI) {
    throw new Error(
      "promtool was not found on PATH. hbd's Prometheus tests run the real one and fail without it: " +
        'run scripts/install-test-deps.sh (Debian: apt-get install prometheus).',
    );
  }
  return undefined;
}

export const PROMTOOL_MISSING =
  'promtool is not installed (scripts/install-test-deps.sh installs it; in CI its absence fails)';

export function promtool(
  file: string,
  args: readonly string[],
  options: { input?: string; cwd?: string } = {},
): Promise<PromtoolRun> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { cwd: options.cwd, timeout: 30_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(new Error(`promtool ${args.join(' ')}: ${error.message}\n${stderr}`));
          return;
        }
        resolve({ code: error ? Number(error.code) : 0, output: `${stdout}${stderr}` });
      },
    );
    child.stdin?.on('error', () => {});
    child.stdin?.end(options.input ?? '');
  });
}
