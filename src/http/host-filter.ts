import { checkHostPattern, hostMatcher } from '../lib/host-pattern.js';
import { HOST_STATES, type HostState } from '../model/events.js';
import { STATUSES, type Status } from '../protocol/types.js';
import { HttpError } from './errors.js';

export interface HostFilterQuery {
  /** Comma-separated states: `down,late`. */
  state?: string;
  /** Comma-separated statuses: `fail,warn`. */
  status?: string;
  /** A host name or a glob: `web*`. */
  name?: string;
}

/** Which hosts `GET /api/hosts` answers with: every condition given must hold. */
export type HostFilter = (name: string, state: HostState, status: Status) => boolean;

/** Reads the query; a bad value is a 400 that names it and lists what is allowed. */
export function parseHostFilter(query: HostFilterQuery): HostFilter | undefined {
  const states = query.state === undefined ? undefined : oneOf('state', query.state, HOST_STATES);
  const statuses = query.status === undefined ? undefined : oneOf('status', query.status, STATUSES);
  let named: ((host: string) => boolean) | undefined;
  if (query.name !== undefined) {
    try {
      named = hostMatcher(checkHostPattern(query.name, 'name'));
    } catch (error) {
      throw new HttpError(400, (error as Error).message);
    }
  }
  if (!states && !statuses && !named) return undefined;
  return (name, state, status) =>
    (!states || states.has(state)) && (!statuses || statuses.has(status)) && (!named || named(name));
}

function oneOf<T extends string>(key: string, list: string, allowed: readonly T[]): Set<T> {
  const wanted = new Set<T>();
  for (const item of list.toLowerCase().split(',')) {
    const value = item.trim();
    if (!(allowed as readonly string[]).includes(value)) {
      throw new HttpError(
        400,
        `${key}: expected a comma-separated list of ${allowed.join(', ')}, got "${item}"`,
      );
    }
    wanted.add(value as T);
  }
  return wanted;
}
