/**
 * Each node of a cluster is also a host of the fleet, named `hbd-node-<name>`: it beats every
 * second, so a node that stops is noticed, announced and shown like any host. The prefix is
 * reserved in a cluster: a heartbeat from the network may not use it (see the ingest pipeline).
 */
export const NODE_HOST_PREFIX = 'hbd-node-';
/** How often a node beats as its own host and reports its row. */
export const NODE_BEAT_SECONDS = 1;

export function nodeHostName(node: string): string {
  return `${NODE_HOST_PREFIX}${node}`;
}

export function isNodeHost(host: string): boolean {
  return host.startsWith(NODE_HOST_PREFIX);
}

/** The node a node host stands for, or undefined for any other host. */
export function nodeOfHost(host: string): string | undefined {
  return isNodeHost(host) ? host.slice(NODE_HOST_PREFIX.length) : undefined;
}
