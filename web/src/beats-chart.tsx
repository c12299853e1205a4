import type { BeatJson } from './api.js';
import { percent, seconds, span } from './format.js';

const WIDTH = 640;
const HEIGHT = 160;
const TOP = 18;
const BOTTOM = 22;
const LEFT = 44;

/**
 * The time between each of the host's recent heartbeats, one bar per heartbeat, against
 * its interval (dashed) and interval + grace: a bar past the dashed line came late, a red
 * mark above a bar says the seq gap before it showed heartbeats lost on the way.
 */
export function BeatsChart({
  beats,
  interval,
  grace,
}: {
  beats: BeatJson[];
  interval: number;
  grace: number;
}) {
  const gaps = beats.map((beat) => beat.gap_ms).filter((gap): gap is number => gap !== null);
  const lost = beats.reduce((sum, beat) => sum + beat.lost, 0);
  if (beats.length < 2) {
    return (
      <p class="chart-empty">
        {beats.length === 0
          ? 'No heartbeat since hbd started.'
          : 'One heartbeat since hbd started: the chart starts with the next.'}
      </p>
    );
  }
  const intervalMs = interval * 1000;
  const downMs = (interval + grace) * 1000;
  const top = Math.max(...gaps, intervalMs > 0 ? intervalMs * 1.5 : 0, 1);
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const y = (ms: number) => TOP + plotHeight - (Math.min(ms, top) / top) * plotHeight;
  const slot = (WIDTH - LEFT) / beats.length;
  const sorted = [...gaps].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const summary =
    `${beats.length} heartbeats; median gap ${seconds(median)}, longest ${seconds(sorted[sorted.length - 1]!)}; ` +
    `${lost} lost (${percent(lost / (beats.length + lost))})`;

  return (
    <figure class="beats">
      <svg
        class="beats-chart"
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={`Time between heartbeats: ${summary}`}
      >
        <title>Time between heartbeats</title>
        <text class="axis" x={LEFT - 6} y={TOP + 4} text-anchor="end">
          {seconds(top)}
        </text>
        <text class="axis" x={LEFT - 6} y={TOP + plotHeight} text-anchor="end">
          0
        </text>
        <line class="baseline" x1={LEFT} x2={WIDTH} y1={TOP + plotHeight} y2={TOP + plotHeight} />
        {beats.map((beat, index) => {
          if (beat.gap_ms === null) return null;
          const x = LEFT + index * slot + slot * 0.15;
          const tone = beat.gap_ms > downMs ? 'down' : beat.gap_ms > intervalMs * 1.1 ? 'late' : 'up';
          return (
            <g key={beat.at}>
              <rect
                class={`gap g-${tone}`}
                x={x}
                y={y(beat.gap_ms)}
                width={Math.max(1, slot * 0.7)}
                height={Math.max(1, TOP + plotHeight - y(beat.gap_ms))}
              >
                <title>{`${seconds(beat.gap_ms)} after the one before${beat.lost ? `, ${beat.lost} lost` : ''}`}</title>
              </rect>
              {beat.lost > 0 && <circle class="lost" cx={x + slot * 0.35} cy={TOP - 8} r={4} />}
            </g>
          );
        })}
        {intervalMs > 0 && (
          <>
            <line class="interval" x1={LEFT} x2={WIDTH} y1={y(intervalMs)} y2={y(intervalMs)} />
            <text class="axis" x={LEFT - 6} y={y(intervalMs) + 4} text-anchor="end">
              {span(interval)}
            </text>
          </>
        )}
        {downMs <= top && <line class="down-line" x1={LEFT} x2={WIDTH} y1={y(downMs)} y2={y(downMs)} />}
      </svg>
      <figcaption>{summary}</figcaption>
    </figure>
  );
}
