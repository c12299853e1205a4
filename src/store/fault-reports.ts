import { errorMessage } from '../lib/error-message.js';
import type { Logger } from '../lib/log.js';
import type { StoreBacklog } from './store.js';
import type { WriteFailure } from './write-retry.js';

/**
 * The log lines of a store that refuses writes: one clear line, with the errno code and what
 * waits in memory, never a stack trace (a full disk is no bug in hbd). The callers say it at
 * most once a minute.
 */
export function reportStoreFailure(log: Logger, path: string, error: unknown, backlog: StoreBacklog): void {
  log.error(
    { store: path, code: codeOf(error), error: errorMessage(error), ...backlog },
    `cannot write to the state store ${path}: ${errorMessage(error)}. Heartbeats are still heard; ` +
      `${backlog.events} events and ${backlog.hosts} hosts wait in memory and are written when it ` +
      'takes writes again (retried with a growing delay, said at most once a minute)',
  );
}

export function reportStoreRecovered(
  log: Logger,
  path: string,
  outage: WriteFailure & { backlog: StoreBacklog },
  nowMs: number,
): void {
  const seconds = Math.round((nowMs - outage.since) / 1000);
  const { backlog } = outage;
  const lost =
    backlog.droppedEvents > 0 ? `; ${backlog.droppedEvents} events were dropped to bound memory` : '';
  (backlog.droppedEvents > 0 ? log.warn : log.info).call(
    log,
    { store: path, seconds, attempts: outage.attempts, droppedEvents: backlog.droppedEvents },
    `the state store ${path} takes writes again after ${seconds} s; what waited is stored${lost}`,
  );
}

/** A file hbd appends to (the beat log, the journal) refuses writes. */
export function reportFileFailure(log: Logger, what: string, path: string, error: unknown): void {
  log.error(
    { file: path, code: codeOf(error), error: errorMessage(error) },
    `cannot write the ${what} ${path}: ${errorMessage(error)}; its lines wait in memory and are ` +
      'written when the disk takes them again (said at most once a minute)',
  );
}

/** What /healthz lists under `degraded`: each store that refuses writes, since when and why. */
export function writeProblems(
  failures: readonly { what: string; failure: WriteFailure | undefined }[],
  nowMs: number,
): string[] {
  const problems: string[] = [];
  for (const { what, failure } of failures) {
    if (!failure) continue;
    const seconds = Math.round((nowMs - failure.since) / 1000);
    problems.push(`cannot write the ${what} for ${seconds} s: ${errorMessage(failure.lastError)}`);
  }
  return problems;
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
