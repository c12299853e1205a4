import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export interface LogOptions {
  /** Human text or one JSON object per line. */
  format: 'text' | 'json';
  level: 'debug' | 'info' | 'warn' | 'error';
  /** A file to append to, or null for stderr. */
  file: string | null;
}

export interface LogHandle {
  log: Logger;
  /** Reopens the log file after logrotate moved it (SIGHUP). */
  reopen(): void;
  flush(): void;
}

/** Writes are synchronous: hbd logs little (bad datagrams are rate-limited) and a crash must not eat the last lines. */
export function createLog(options: LogOptions): LogHandle {
  if (options.file) mkdirSync(dirname(options.file), { recursive: true });
  const destination = pino.destination({ dest: options.file ?? 2, sync: true });
  // A failed reopen (or write) is emitted as an event, which unheard would end the process:
  // logging must never take hbd down. Said on stderr, which the file may have replaced.
  destination.on('error', (error: Error) => {
    if (options.file) process.stderr.write(`hbd: log file ${options.file}: ${error.message}\n`);
  });
  const stream =
    options.format === 'json'
      ? destination
      : pretty({
          destination,
          sync: true,
          colorize: false,
          translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
          ignore: 'pid,hostname',
          singleLine: true,
        });
  const log = pino({ level: options.level, base: { pid: process.pid } }, stream);
  return {
    log,
    // Only a file can be reopened; stderr stays what it is.
    reopen: () => {
      if (!options.file) return;
      // As at start: a rotation scheme that moves the whole directory away gets a new one.
      mkdirSync(dirname(options.file), { recursive: true });
      destination.reopen();
    },
    flush: () => destination.flushSync(),
  };
}
