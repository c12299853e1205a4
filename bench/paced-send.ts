/** Paced UDP sending, shared by the bench's sender processes. */
import type dgram from 'node:dgram';

export interface SendReport {
  sent: number;
  failed: number;
  seconds: number;
  /** Datagrams per second actually handed to the kernel. */
  achieved: number;
}

/** The pacing tick. Node timers cannot go below 1 ms, which is fine grained enough for a 8 MiB buffer. */
const TICK_MS = 1;
/**
 * Most time a late tick may catch up in one burst (a few hundred datagrams): a sender
 * that stalls for longer falls behind, and reports a lower achieved rate, instead of
 * flooding the receiver with a burst no real fleet would send.
 */
const MAX_CATCH_UP_MS = 10;

/**
 * Sends `datagrams` at `rate` per second, in bursts of about rate/1000 every millisecond.
 * Only the last send takes a callback: a callback per datagram halves the send rate, and
 * libuv completes sends in order, so the last callback means all were handed over.
 */
export function pacedSend(socket: dgram.Socket, datagrams: Buffer[], rate: number): Promise<SendReport> {
  return new Promise((resolve) => {
    const total = datagrams.length;
    const start = performance.now();
    let lastTick = start;
    let allowance = 0;
    let next = 0;
    let failed = 0;
    // Without a callback, a failed send is reported as an error event.
    const onError = () => {
      failed++;
    };
    socket.on('error', onError);
    const finish = (error: Error | null) => {
      if (error) failed++;
      socket.off('error', onError);
      const seconds = (performance.now() - start) / 1000;
      const sent = total - failed;
      resolve({ sent, failed, seconds, achieved: sent / seconds });
    };
    const tick = () => {
      const now = performance.now();
      allowance += (Math.min(now - lastTick, MAX_CATCH_UP_MS) * rate) / 1000;
      lastTick = now;
      const until = Math.min(total - 1, next + Math.floor(allowance));
      allowance -= until - next;
      while (next < until) socket.send(datagrams[next++]!);
      if (next < total - 1) setTimeout(tick, TICK_MS);
      else socket.send(datagrams[next++]!, finish);
    };
    tick();
  });
}
