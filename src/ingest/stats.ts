import { DROP_REASONS, type DropReason } from '../protocol/types.js';

/** Counters of the ingest path, read by /metrics and the benchmark. */
export class IngestStats {
  received = 0;
  accepted = 0;
  readonly dropped: Record<DropReason, number> = Object.fromEntries(
    DROP_REASONS.map((reason) => [reason, 0]),
  ) as Record<DropReason, number>;
}
