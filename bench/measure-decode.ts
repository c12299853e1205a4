/** Measurement 9: decodeDatagram's cost per datagram, valid and hostile (zlib bomb, fake zlib). */
import type { DecodeReport } from './decode-worker.js';
import { BenchChild } from './ipc.js';

/** Timed rounds of each case (best taken), and datagrams decoded per round. */
export const DECODE_ROUNDS = 10;
export const DECODE_CALLS = 5000;

export async function measureDecode(): Promise<DecodeReport> {
  const worker = await BenchChild.start('decode', new URL('./decode-worker.js', import.meta.url));
  try {
    return await worker.request<DecodeReport>(
      'measure',
      { rounds: DECODE_ROUNDS, calls: DECODE_CALLS },
      60_000,
    );
  } finally {
    worker.kill();
  }
}
