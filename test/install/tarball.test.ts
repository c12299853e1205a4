import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import { type PrebuiltMirror, startPrebuiltMirror } from './prebuilt-mirror.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
// Installing resolves hbd's dependencies from the npm cache (or the registry) and unpacks them:
// seconds usually, but the machine may be busy and the cache cold.
const INSTALL_TIMEOUT_MS = 240_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number },
) {
  return new Promise<Run>((resolve, reject) => {
    execFile(
      command,
      args,
      {
        cwd: options.cwd,
        env: options.env,
        timeout: options.timeoutMs ?? 30_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') reject(Object.assign(error, { stdout, stderr }));
        else resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
      },
    );
  });
}

/**
 * The environment of an operator's shell: without what `npm test` adds (npm_* settings, this
 * checkout's node_modules/.bin on the PATH) and without hbd's own variables, so neither the
 * install nor hbd can lean on this checkout or on the tester's setup.
 */
function operatorEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|hbd_|xdg_)/i.test(key) || key === 'INIT_CWD') continue;
    env[key] = value;
  }
  env.PATH = (env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => !dir.endsWith(`${sep}node_modules${sep}.bin`))
    .join(delimiter);
  return { ...env, ...extra };
}

/** Every file under `dir`, relative to `base`. */
function filesUnder(dir: string, base: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path, base) : [relative(base, path)];
  });
}

describe('the npm tarball, installed with nothing but Node and npm', () => {
  let work: string;
  let prefix: string;
  let packed: string[] = [];
  let mirror: PrebuiltMirror | undefined;
  let npmCache: string | undefined;
  let home: string;
  let elsewhere: string;
  let serving: ChildProcess | undefined;

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist/web/index.html'))) {
      throw new Error('dist/web is missing: run npm run build (npm ci does) before this test');
    }
    work = mkdtempSync(join(tmpdir(), 'hbd-install-'));
    prefix = join(work, 'prefix');
    home = join(work, 'home');
    elsewhere = join(work, 'somewhere');
    for (const dir of [prefix, home, elsewhere]) mkdirSync(dir);

    // --ignore-scripts: dist/ is already built (npm ci ran `prepare`, the suite's setup ran tsc);
    // building again here would rewrite dist/ under the tests running beside this one.
    const pack = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {
      cwd: ROOT,
      env: operatorEnv(),
      timeoutMs: 60_000,
    });
    expect(pack, pack.stderr).toMatchObject({ code: 0 });
    const [result] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
    if (!result) throw new Error(`npm pack said nothing about its tarball: ${pack.stdout}`);
    packed = result.files.map((file) => file.path);
    const tarball = join(work, result.filename);
    expect(basename(tarball)).toBe(`hbd-${version}.tgz`);

    npmCache = (
      await run('npm', ['config', 'get', 'cache'], { cwd: work, env: operatorEnv() })
    ).stdout.trim();
    mirror = await startPrebuiltMirror();
    const install = await run(
      'npm',
      [
        'install',
        '--global',
        '--prefix',
        prefix,
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        // npm 11 runs a dependency's install script only with a warning unless it is allowed.
        '--allow-scripts=better-sqlite3',
        tarball,
      ],
      { cwd: work, env: operatorEnv(mirror.env), timeoutMs: INSTALL_TIMEOUT_MS },
    );
    expect(install, install.stderr).toMatchObject({ code: 0 });
  }, INSTALL_TIMEOUT_MS + 90_000);

  afterAll(async () => {
    if (serving && serving.exitCode === null && serving.signalCode === null) serving.kill('SIGKILL');
    await mirror?.close(npmCache ? [npmCache] : []);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('installs the prebuilt SQLite binary, as on a machine that downloads it, rather than compiling it', () => {
    expect(mirror?.served, `prebuild-install asked for: ${mirror?.requested.join(', ')}`).toHaveLength(1);
    expect(
      existsSync(join(prefix, 'lib/node_modules/hbd/node_modules/better-sqlite3', 'build/Release/obj')),
    ).toBe(false);
  });

  it('ships the built dashboard, the docs and contrib/ (systemd units, the shell sender), not the sources', () => {
    expect(packed).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'dist/cli/main.js',
        'dist/web/index.html',
        'docs/install.md',
        'contrib/systemd/hbd.service',
        'contrib/systemd/hbd-send.service',
      ]),
    );
    // Whatever contrib/ holds ships, with its executable bits (the shell sender is run as is).
    const installed = join(prefix, 'lib/node_modules/hbd');
    for (const file of filesUnder(join(ROOT, 'contrib'), ROOT)) {
      expect(packed).toContain(file.split(sep).join('/'));
      const executable = (path: string) => (statSync(path).mode & 0o100) !== 0;
      expect(executable(join(installed, file)), file).toBe(executable(join(ROOT, file)));
    }
    expect(packed.filter((path) => /^(src|test|web|bench|scripts)\//.test(path))).toEqual([]);
  });

  it('hbd --version says the version of the package', async () => {
    const result = await run(join(prefix, 'bin/hbd'), ['--version'], {
      cwd: elsewhere,
      env: operatorEnv({ HOME: home }),
    });
    expect(result).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('hbd check-config --example prints a config that says every default', async () => {
    const result = await run(join(prefix, 'bin/hbd'), ['check-config', '--example'], {
      cwd: elsewhere,
      env: operatorEnv({ HOME: home }),
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('hb_port: 50003');
  });

  it('hbd serve, started from any directory, answers /healthz and serves the dashboard; SIGTERM stops it', async () => {
    // The operator's ~/.hb.yaml, found without -c; free ports, so the test can run beside others.
    writeFileSync(join(home, '.hb.yaml'), 'hb_host: 127.0.0.1\nhb_port: 0\nhbd_port: 0\nlogfmt: json\n');
    const child = spawn(join(prefix, 'bin/hbd'), ['serve'], {
      cwd: elsewhere,
      env: operatorEnv({ HOME: home }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    serving = child;
    const exited = new Promise<number | string>((resolve) =>
      child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
    );
    let log = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
    });
    const listening = await eventually(() => {
      for (const line of log.split('\n')) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as { http?: string; store?: string };
        if (entry.http !== undefined) return entry as { http: string; store: string };
      }
      if (child.exitCode !== null) throw new Error(`hbd serve exited ${child.exitCode}:\n${log}`);
      throw new Error(`hbd serve has not said where it listens yet:\n${log}`);
    }, 30_000);

    // The installed bin is a node script: the process started is Node running hbd, so the PID a
    // service manager records is the one to signal (no npm or shell in between).
    const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
    expect(basename(cmdline[0] ?? '')).toMatch(/^node/);
    expect(cmdline[1]).toBe(join(prefix, 'bin/hbd'));
    // State goes where the operator's home says, not into the directory hbd was started from.
    expect(listening.store).toContain(join(home, '.local/state/hbd/hbd.sqlite'));
    expect(readdirSync(elsewhere)).toEqual([]);

    const health = await fetch(new URL('/healthz', listening.http));
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true });

    const page = await fetch(new URL('/', listening.http));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('<div id="app"></div>');
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script, html).toBeDefined();
    const asset = await fetch(new URL(script ?? '', listening.http));
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect((await asset.text()).length).toBeGreaterThan(1000);

    expect(child.pid).toBeDefined();
    process.kill(child.pid ?? 0, 'SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);
});
