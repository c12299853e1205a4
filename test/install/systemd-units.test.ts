import { execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { HBD, runHbd, serveHbd } from '../helpers/cli.js';
import { eventually, getJson, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { commandLine, serviceValues, shippedUnits, UNITS_DIR, unitEnvironment } from './unit-file.js';

const SHELL_SENDER = fileURLToPath(new URL('../../contrib/hbd-send.sh', import.meta.url));
/** Where the units expect each program, and where this checkout has it. */
const PROGRAMS: Record<string, string> = {
  '/usr/local/bin/hbd': HBD,
  '/usr/local/bin/hbd-send.sh': SHELL_SENDER,
  '/bin/kill': '/bin/kill',
};
const SECRET = 'a-host-key-for-the-unit-test-0123456789';

const SYSTEMD_ANALYZE = process.env.PATH?.split(delimiter)
  .map((dir) => join(dir, 'systemd-analyze'))
  .find((path) => existsSync(path));
const SYSTEMD_INSTALLED = ['/usr/lib/systemd/systemd', '/lib/systemd/systemd'].some((path) =>
  existsSync(path),
);

interface Run {
  code: number;
  output: string;
}

function run(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  const [program, ...args] = argv;
  return new Promise((resolve, reject) => {
    execFile(program ?? '', args, { env, timeout: 30_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') reject(error);
      else resolve({ code: error ? Number(error.code) : 0, output: stdout + stderr });
    });
  });
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Copies of the units whose programs are executables under `dir` (systemd-analyze checks that
 * each one exists), so the units themselves keep the paths an installed hbd has.
 */
function unitsWithProgramsIn(dir: string, units: string[], edit = (text: string) => text): string[] {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  return units.map((name) => {
    const text = readFileSync(join(UNITS_DIR, name), 'utf8').replace(
      /\/usr\/local\/bin\/([\w.-]+)/g,
      (_, program: string) => {
        const stub = join(dir, 'bin', program);
        writeFileSync(stub, '#!/bin/sh\nexit 0\n');
        chmodSync(stub, 0o755);
        return stub;
      },
    );
    const path = join(dir, name);
    writeFileSync(path, edit(text));
    return path;
  });
}

async function verify(paths: string[]): Promise<Run> {
  return run([SYSTEMD_ANALYZE ?? 'systemd-analyze', 'verify', ...paths]);
}

/** The lines of systemd-analyze's output about these units (it may also talk about the host's). */
function complaintsAbout(output: string, units: string[]): string[] {
  return output.split('\n').filter((line) => units.some((unit) => line.includes(unit)));
}

describe('the systemd units in contrib/systemd', () => {
  it('are the daemon, the sender and the shell sender', () => {
    expect(shippedUnits()).toEqual(['hbd-send-sh.service', 'hbd-send.service', 'hbd.service']);
  });

  it('pass systemd-analyze verify, which does catch a broken unit here', async (context) => {
    if (SYSTEMD_ANALYZE === undefined) {
      expect(SYSTEMD_INSTALLED, 'systemd is installed, but systemd-analyze is not on the PATH').toBe(false);
      context.skip('systemd is not installed here, so there is no systemd-analyze to verify the units with');
      return;
    }
    const units = shippedUnits();
    const checked = await verify(unitsWithProgramsIn(tempDir('hbd-units-'), units));
    expect(complaintsAbout(checked.output, units)).toEqual([]);
    expect(checked.code, checked.output).toBe(0);

    // The same check on a unit with a typo and a program that is not there complains, so a clean
    // result above means something.
    const broken = await verify(
      unitsWithProgramsIn(tempDir('hbd-units-broken-'), ['hbd.service'], (text) =>
        text.replace('ExecStart=', 'ExecStart=/nonexistent/hbd serve\nRestartSecs=2\n# '),
      ),
    );
    expect(broken.code).not.toBe(0);
    expect(broken.output).toContain('/nonexistent/hbd');
    expect(broken.output).toContain('RestartSecs');
  });

  it('hbd.service: its config check, hbd serve and its reload (check, then SIGHUP to $MAINPID) work as the unit says', async () => {
    const dir = tempDir('hbd-unit-daemon-');
    const config = join(dir, 'hb.yaml');
    const valid = `hb_host: 127.0.0.1\nhb_port: 0\nhbd_port: 0\npickfile: ${join(dir, 'state.sqlite')}\nlogfmt: json\n`;
    writeFileSync(config, valid, { mode: 0o600 });
    const unitEnv = unitEnvironment('hbd.service');
    expect(unitEnv.HBD_CONFIG).toBe('/etc/hbd/hb.yaml');
    const env = { ...process.env, ...unitEnv, HBD_CONFIG: config };

    for (const line of serviceValues('hbd.service', 'ExecStartPre')) {
      const result = await run(commandLine(line, {}, PROGRAMS), env);
      expect(result.code, `${line}: ${result.output}`).toBe(0);
      expect(result.output).toContain(`ok: ${config}`);
    }

    const [start, ...more] = serviceValues('hbd.service', 'ExecStart');
    expect(more).toEqual([]);
    const [program, ...args] = commandLine(start ?? '', {}, PROGRAMS);
    expect(program).toBe(HBD);
    const hbd = await serveHbd(args, env);
    cleanups.push(() => hbd.process.kill('SIGKILL'));
    const mainPid = String(hbd.process.pid);

    const reload = serviceValues('hbd.service', 'ExecReload');
    expect(reload.at(-1)).toBe('/bin/kill -HUP $MAINPID');
    for (const line of reload) {
      const result = await run(commandLine(line, { MAINPID: mainPid }, PROGRAMS), env);
      expect(result.code, `${line}: ${result.output}`).toBe(0);
    }
    await hbd.waitForLog((entry) => String(entry.msg).startsWith('config reloaded'));

    // A broken config fails the reload at its first step, so systemd never signals hbd; and the
    // exit code hbd gives it is the one the unit does not restart on.
    writeFileSync(config, `${valid}interval: -5\n`);
    const refused = await run(commandLine(reload[0] ?? '', { MAINPID: mainPid }, PROGRAMS), env);
    expect(refused.code).toBe(2);
    expect(refused.output).toContain('interval');
    const restart = await runHbd(args, env);
    expect(restart.code).toBe(2);
    expect(serviceValues('hbd.service', 'RestartPreventExitStatus')).toEqual([String(restart.code)]);

    expect(hbd.process.exitCode).toBe(null);
    hbd.process.kill('SIGTERM');
    expect(await hbd.exited).toBe(0);
  });

  for (const unit of ['hbd-send.service', 'hbd-send-sh.service']) {
    it(`${unit}: its command line sends signed heartbeats with the credential, and says bye when stopped`, async () => {
      const daemon: TestDaemon = await startTestDaemon({ auth: 'required', keys: { '*': SECRET } });
      cleanups.push(() => daemon.stop());
      // What systemd makes of LoadCredential=key:/etc/hbd/key: a copy only the service's user reads.
      const credentials = tempDir('hbd-unit-credentials-');
      const [credential] = serviceValues(unit, 'LoadCredential');
      expect(credential).toBe('key:/etc/hbd/key');
      writeFileSync(join(credentials, 'key'), `${SECRET}\n`, { mode: 0o400 });

      const [start] = serviceValues(unit, 'ExecStart');
      const argv = commandLine(start ?? '', { CREDENTIALS_DIRECTORY: credentials }, PROGRAMS);
      const server = argv.indexOf('--server');
      expect(server).toBeGreaterThan(0);
      argv[server + 1] = `127.0.0.1:${daemon.daemon.udp.port}`;
      const [program, ...args] = argv;
      const sender = spawn(program ?? '', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      sender.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const exited = new Promise<number | string>((resolve) =>
        sender.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
      );
      cleanups.push(() => sender.kill('SIGKILL'));

      const hosts = () => getJson<{ name: string; state: string }[]>(daemon.url('/api/hosts'));
      const [host] = await eventually(async () => {
        const { body } = await hosts();
        if (sender.exitCode !== null) throw new Error(`the sender exited ${sender.exitCode}: ${stderr}`);
        if (body.length !== 1 || body[0]?.state !== 'up')
          throw new Error(`no host up yet: ${JSON.stringify(body)}`);
        return body;
      }, 15_000);

      sender.kill('SIGTERM');
      expect(await exited, stderr).toBe(0);
      await eventually(async () => {
        const { body } = await hosts();
        return body.find((h) => h.name === host?.name)?.state === 'left';
      }, 10_000);
    });
  }
});
