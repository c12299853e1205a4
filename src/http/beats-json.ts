import type { RecentBeat } from '../state/beat-history.js';
import { rfc3339 } from './host-json.js';

/** `GET /api/hosts/{name}/beats`: the host's recent heartbeats, oldest first. */
export function beatsJson(beats: readonly RecentBeat[]) {
  return {
    beats: beats.map((beat) => ({ at: rfc3339(beat.at), gap_ms: beat.gapMs, lost: beat.lost })),
  };
}
