import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import { inertLines } from './log-inert.js';
import { createPrivate, PRIVATE_FILE_MODE } from './private-file.js';

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
  if (options.file) {
    mkdirSync(dirname(options.file), { recursive: true });
    // A new log file is 0600 whatever the umask (it quotes hosts' messages and addresses); one
    // that exists keeps its mode, which a log shipper's group may rely on.
    createPrivate(options.file);
  }
  // The mode also serves a file made anew by a reopen after logrotate moved the old one.
  const destination = pino.destination({ dest: options.file ?? 2, sync: true, mode: PRIVATE_FILE_MODE });
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
  // JSON is read by log shippers and jq: "level":"info" and an ISO 8601 time need no lookup
  // table. Text keeps pino's numbers, which pino-pretty turns into words and local times itself.
  const shape =
    options.format === 'json'
      ? {
          formatters: { level: (label: string) => ({ level: label }) },
          timestamp: pino.stdTimeFunctions.isoTime,
        }
      : {};
  // Text from heartbeats and providers reaches log lines: inertLines escapes its control characters.
  const log = pino({ level: options.level, base: { pid: process.pid }, ...shape }, inertLines(stream));
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
