import { Command } from 'commander';
import { ConfigError } from '../config/errors.js';
import { describeReloadChanges } from '../config/reload.js';
import { startDaemon } from '../daemon/start.js';
import { createLog } from '../lib/log.js';
import {
  CONFIG_EXIT_CODE,
  checkStartupFiles,
  loadConfigOrExit,
  printConfigError,
  problemsOf,
  readConfig,
} from './config-loading.js';

/** Most a clean shutdown may take before hbd gives up waiting and exits anyway. */
const SHUTDOWN_DEADLINE_MS = 5000;

interface ServeOptions {
  config?: string;
  foreground?: boolean;
  verbose?: boolean;
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the daemon in the foreground')
    .option('-c, --config <file>', 'config file (else $HBD_CONFIG, else ~/.hb.yaml, else built-in defaults)')
    .option('-f, --foreground', 'run in the foreground (always the case; kept for older init scripts)')
    .option('-v, --verbose', 'log at debug level')
    .addHelpText(
      'after',
      '\nSignals: SIGHUP reloads the config and reopens the log file; SIGTERM or SIGINT stop cleanly.',
    )
    .action((options: ServeOptions) => serve(options));
}

async function serve(options: ServeOptions): Promise<void> {
  const loaded = loadConfigOrExit(options.config);
  let startupWarnings: string[];
  try {
    startupWarnings = checkStartupFiles(loaded);
  } catch (error) {
    printConfigError(error);
    process.exit(CONFIG_EXIT_CODE);
  }
  let config = loaded.config;
  const logging = createLog({
    format: config.logfmt,
    level: options.verbose ? 'debug' : config.log_level,
    file: config.logfile,
  });
  const { log } = logging;
  for (const warning of startupWarnings) log.warn(warning);
  log.info(`config: ${loaded.source ?? 'built-in defaults'}`);

  // Signals are taken from the first moment: the daemon announces that it listens before
  // startDaemon returns, and a SIGHUP then must reload, not kill it (SIGHUP's default action).
  let daemon: Awaited<ReturnType<typeof startDaemon>> | undefined;
  const deferred: (() => void)[] = [];
  const whenStarted = (action: () => void) => () => {
    if (daemon) action();
    else deferred.push(action);
  };

  const reload = () => {
    if (!daemon) return;
    try {
      logging.reopen();
    } catch (error) {
      // Logrotate's postrotate sends SIGHUP: a log that cannot be reopened must not stop hbd,
      // nor the reload. The lines go on to the file already open.
      const message = `cannot reopen the log file ${config.logfile}: ${(error as Error).message}`;
      log.error({ err: error }, `${message}; still writing to the file open before`);
      process.stderr.write(`hbd: ${message}\n`);
    }
    let next: ReturnType<typeof readConfig>;
    try {
      next = readConfig(options.config);
    } catch (error) {
      // A bad config must not stop a running daemon: report it and keep going.
      const problems = problemsOf(error);
      log.error({ problems }, `config reload refused, keeping the running config: ${problems.join('; ')}`);
      return;
    }
    try {
      const changes = describeReloadChanges(config, next.config);
      for (const warning of next.warnings) log.warn(warning);
      daemon.reload(options.verbose ? { ...next.config, log_level: 'debug' } : next.config);
      config = next.config;
      log.info(
        { applied: changes.live },
        `config reloaded; applied: ${changes.live.join(', ') || 'nothing changed'}`,
      );
      if (changes.needRestart.length > 0) {
        log.warn(
          { needRestart: changes.needRestart },
          `restart hbd to apply: ${changes.needRestart.join(', ')}`,
        );
      }
    } catch (error) {
      log.error({ err: error }, 'config reload failed; keeping the running config');
    }
  };

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping || !daemon) return;
    stopping = true;
    log.info(`${signal}: stopping`);
    setTimeout(() => {
      log.error('shutdown took too long; exiting anyway');
      logging.flush();
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    daemon.stop().then(
      () => {
        log.info('stopped');
        logging.flush();
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, 'error while stopping');
        logging.flush();
        process.exit(1);
      },
    );
  };
  process.on('SIGHUP', whenStarted(reload));
  process.on(
    'SIGTERM',
    whenStarted(() => stop('SIGTERM')),
  );
  process.on(
    'SIGINT',
    whenStarted(() => stop('SIGINT')),
  );

  try {
    daemon = await startDaemon(config, { log });
  } catch (error) {
    if (error instanceof ConfigError) {
      // A TLS file removed since the check above, say: a config problem, told as one.
      log.fatal({ problems: error.problems }, `hbd cannot start: ${error.problems.join('; ')}`);
      logging.flush();
      process.exit(CONFIG_EXIT_CODE);
    }
    log.fatal({ err: error }, `hbd cannot start: ${(error as Error).message}`);
    logging.flush();
    process.exit(1);
  }
  for (const action of deferred) action();
}
