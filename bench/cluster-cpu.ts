/**
 * CPU time of other processes, from /proc: the cluster bench runs hbd nodes, senders and
 * PostgreSQL side by side on a machine of a few cores, so what each used tells how it would
 * scale on machines of their own.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these (100 on every Linux Node supports). */
const TICKS_PER_SECOND = 100;

/** User + system CPU seconds of one process so far; undefined once it is gone. */
export function cpuSecondsOf(pid: number): number | undefined {
  const fields = statFields(pid);
  if (!fields) return undefined;
  // After the command's closing parenthesis: state is field 3, utime 14, stime 15 (proc(5)).
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

export function parentOf(pid: number): number | undefined {
  const fields = statFields(pid);
  return fields ? Number(fields[1]) : undefined;
}

/** The processes whose parent is `pid` (PostgreSQL's backends and helpers are the postmaster's). */
export function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    if (parentOf(Number(entry)) === pid) children.push(Number(entry));
  }
  return children;
}

/** The fields after `pid (comm)`: the command may hold spaces and parentheses, so split after the last `)`. */
function statFields(pid: number): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** A group of processes whose CPU is summed: one hbd node, one sender, or every PostgreSQL process. */
export interface WatchedGroup {
  name: string;
  /** Read at the start and at the end: a process started meanwhile counts from zero. */
  pids: () => number[];
}

export interface GroupCpu {
  name: string;
  /** CPU seconds over the window. */
  seconds: number;
  /** Cores kept busy on average: 1 is a whole core. */
  cores: number;
}

/** Starts a CPU window over `groups`; the returned function ends it. */
export function watchCpu(groups: readonly WatchedGroup[]): () => GroupCpu[] {
  const startedAt = performance.now();
  const before = groups.map((group) => snapshot(group.pids()));
  return () => {
    const elapsed = (performance.now() - startedAt) / 1000;
    return groups.map((group, index) => {
      const start = before[index]!;
      let seconds = 0;
      for (const [pid, now] of snapshot([...new Set([...start.keys(), ...group.pids()])])) {
        seconds += Math.max(0, now - (start.get(pid) ?? 0));
      }
      return { name: group.name, seconds, cores: elapsed > 0 ? seconds / elapsed : 0 };
    });
  };
}

function snapshot(pids: readonly number[]): Map<number, number> {
  const seconds = new Map<number, number>();
  for (const pid of pids) {
    const used = cpuSecondsOf(pid);
    if (used !== undefined) seconds.set(pid, used);
  }
  return seconds;
}
