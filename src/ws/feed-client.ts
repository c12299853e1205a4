import type { WebSocket } from 'ws';

/** A live frame, serialised once for every client. */
export interface LiveFrame {
  /**
   * Frames with the same key replace each other while they wait for a client: a host's
   * heartbeats share its name, so the latest one wins. Each event has a key of its own.
   */
  key: string | number;
  text: string;
}

/**
 * What the socket may hold before further frames wait in the client's backlog, where they
 * merge: a client that reads slowly gets each host's latest heartbeat, not every one.
 */
const SOCKET_LOW_WATER = 32 * 1024;

/**
 * One `/ws` client. Frames are written only as fast as its socket takes them: the snapshot a
 * frame at a time, each once the one before was taken; live frames in batches, each once the
 * batch before was taken, the rest waiting (and merging) in a backlog. So what a client that
 * does not read costs is its backlog, which `LiveFeed` bounds in bytes and in time.
 */
export class FeedClient {
  readonly ws: WebSocket;
  readonly #now: () => number;
  /** In the order to send; a re-added key moves to the end (its frame is newer than those before it). */
  readonly #backlog = new Map<string | number, string>();
  #backlogChars = 0;
  /** Live frames wait until the snapshot has been sent. */
  #holding = true;
  /** Writes whose callback has not come yet: the socket has not taken them. */
  #inFlight = 0;
  /** Since when the socket has taken nothing, while writes are in flight. */
  #waitingSince: number | undefined;
  /** Set once it has been told to go: nothing more is sent. */
  cutOff = false;

  constructor(ws: WebSocket, now: () => number) {
    this.ws = ws;
    this.#now = now;
  }

  /** Bytes waiting for this client, in its backlog and in its socket (a snapshot frame in flight is not counted). */
  get backlogBytes(): number {
    return this.#backlogChars + (this.#holding ? 0 : this.ws.bufferedAmount);
  }

  /** How long the write in flight has waited for the socket to take it; 0 when none waits. */
  stalledMs(): number {
    return this.#waitingSince === undefined ? 0 : this.#now() - this.#waitingSince;
  }

  /** Queues live frames and sends what the socket has room for. */
  add(frames: readonly LiveFrame[]): void {
    for (const { key, text } of frames) {
      const replaced = this.#backlog.get(key);
      if (replaced !== undefined) {
        this.#backlog.delete(key);
        this.#backlogChars -= replaced.length;
      }
      this.#backlog.set(key, text);
      this.#backlogChars += text.length;
    }
    this.#pump();
  }

  /** Sends one frame of the snapshot; resolves once the socket has taken it, false if the client is gone. */
  sendSnapshotFrame(text: string): Promise<boolean> {
    if (!this.#open) return Promise.resolve(false);
    return new Promise((resolve) => {
      const settle = (sent: boolean) => {
        this.ws.off('close', onClose);
        resolve(sent && this.#open);
      };
      const onClose = () => settle(false);
      this.ws.once('close', onClose);
      this.#sendFollowed(text, (error) => settle(!error));
    });
  }

  /** The snapshot is complete: the live frames that waited go out. */
  release(): void {
    this.#holding = false;
    this.#pump();
  }

  get #open(): boolean {
    return this.ws.readyState === this.ws.OPEN && !this.cutOff;
  }

  /** Sends what the socket has room for; once it has taken that, this runs again for the rest. */
  #pump(): void {
    if (this.#holding || !this.#open) return;
    let last: string | undefined;
    for (const [key, text] of this.#backlog) {
      // What the kernel takes at once leaves the socket's buffer at once; what stays, waits here.
      if (this.ws.bufferedAmount >= SOCKET_LOW_WATER) break;
      this.#backlog.delete(key);
      this.#backlogChars -= text.length;
      if (last !== undefined) this.ws.send(last);
      last = text;
    }
    // Only the last frame is followed: once it is taken, so is everything before it.
    if (last !== undefined) this.#sendFollowed(last, () => this.#pump());
  }

  #sendFollowed(text: string, taken: (error?: Error) => void): void {
    if (this.#inFlight++ === 0) this.#waitingSince = this.#now();
    this.ws.send(text, (error) => {
      // Taken by the socket: progress, even if more is in flight.
      this.#waitingSince = --this.#inFlight === 0 ? undefined : this.#now();
      taken(error ?? undefined);
    });
  }
}
