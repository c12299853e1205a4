/** Figures shared by the ingest measurements, so that the baseline and hbd run under the same conditions. */

/** Distinct hosts in the ingest runs. */
export const INGEST_HOSTS = 100_000;

/** SO_RCVBUF asked for by both receivers: hbd's default `udp_rcvbuf`. */
export const RECEIVE_BUFFER_BYTES = 8 * 1024 * 1024;
