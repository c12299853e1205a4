import type { Logger } from '../lib/log.js';

/** Says so when the kernel granted a smaller UDP receive buffer than `udp_rcvbuf` asked for. */
export function warnAboutReceiveBuffer(log: Logger, requested: number, reported: number): void {
  // Linux reports twice what was set (the kernel's bookkeeping share); halve it to compare.
  const granted = reported / 2;
  if (requested > 0 && granted < requested) {
    log.warn(
      { requested, granted },
      `the kernel granted a ${granted}-byte UDP receive buffer instead of ${requested}: ` +
        'raise net.core.rmem_max to absorb bursts',
    );
  }
}
