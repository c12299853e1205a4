import { hostname } from 'node:os';
import { z } from 'zod';

const NODE_NAME = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;
const NODE_NAME_RULE = 'a node name: 1 to 40 lower-case letters, digits or -, not starting or ending with -';
/** The lease is renewed three times per lease; shorter than this, a busy database alone would cost the lead. */
const MIN_LEASE_SECONDS = 1;
export const DEFAULT_LEASE_SECONDS = 10;
const LEASE_RULE = `expected a number of seconds from ${MIN_LEASE_SECONDS} to 3600`;

/**
 * `cluster:` — this node's name among the nodes sharing a PostgreSQL store, and the leader
 * lease (docs/cluster.md). Every node uses the same config apart from `node` and its bind
 * addresses. Without a store that several nodes can share (`store: postgresql://…`) it has no effect.
 */
export function clusterSection() {
  return z
    .object(
      {
        node: z
          .string(`expected ${NODE_NAME_RULE}`)
          .regex(NODE_NAME, `expected ${NODE_NAME_RULE}`)
          .default(() => defaultNodeName(hostname())),
        lease: z
          .number(LEASE_RULE)
          .min(MIN_LEASE_SECONDS, LEASE_RULE)
          .max(3600, LEASE_RULE)
          .default(DEFAULT_LEASE_SECONDS),
      },
      'expected a map with node and lease',
    )
    .prefault({});
}

/** The machine's host name as a node name: its first label, lower-cased, with anything else made a `-`. */
export function defaultNodeName(machine: string): string {
  const name = (machine.split('.')[0] ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 40)
    .replace(/^-+|-+$/g, '');
  return name === '' ? 'hbd' : name;
}
