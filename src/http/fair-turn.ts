/**
 * Turns of the event loop shared out among the reads that build big answers (`/api/hosts`, the
 * `/ws` snapshot): each turn lets one of them build one piece, in the order they asked. With a
 * plain `setImmediate` every waiting read would build its piece in the same turn, and twenty
 * snapshots at once would hold the loop twenty pieces long; this way a turn holds it for one,
 * and heartbeats are read between any two. Process-wide, as the event loop is.
 */
const waiting: (() => void)[] = [];
let scheduled = false;

/** Resolves at a later turn of the event loop, when it is this caller's go. */
export function fairTurn(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    schedule();
  });
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(releaseOne);
}

function releaseOne(): void {
  scheduled = false;
  // Its piece is built in the microtasks that follow, still within this turn.
  waiting.shift()?.();
  if (waiting.length > 0) schedule();
}
