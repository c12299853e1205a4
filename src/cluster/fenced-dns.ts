import { DnsUpdateError, type DnsUpdater } from '../dns/update-types.js';

/**
 * A DNS server cannot check a fencing token, so a cluster node checks its own lease right
 * before each update: a leader paused past its lease and then resumed sends none, even in the
 * moment before it notices that it lost the lease. The refusal is retryable, so what was wanted
 * is sent by this node again if it still leads, and by the next leader (which re-sends every
 * host's records as it takes over) otherwise.
 */
export function fencedUpdater(updater: DnsUpdater, leads: () => boolean): DnsUpdater {
  return {
    method: updater.method,
    update: (request, signal) =>
      leads()
        ? updater.update(request, signal)
        : Promise.reject(
            new DnsUpdateError('OTHER', 'this node no longer leads the cluster: the leader updates DNS', {
              retryable: true,
            }),
          ),
    close: updater.close && (() => updater.close!()),
  };
}
