import { fairTurn } from './fair-turn.js';
import type { HostJson } from './host-json.js';

/** Where a listing reads its hosts from, one at a time, when it gets to them. */
export interface HostSource {
  /** The host as the API shows it, or undefined when it has been forgotten meanwhile. */
  json(name: string): HostJson | undefined;
  /** A host that could not be turned into JSON: it is left out, and this says why. */
  onHostError(name: string, error: unknown): void;
}

/** Some hosts' JSON objects joined by commas: what goes between `[` and `]`. */
export interface HostPiece {
  text: string;
  count: number;
}

/**
 * A piece is closed once it holds this many characters, so one piece is at most this plus one
 * host (whose size `limits.host_bytes` bounds).
 */
export const PIECE_CHARS = 64 * 1024;

/**
 * Turns hosts into JSON a piece at a time, never as one string: a whole fleet's JSON can be
 * larger than V8 lets a string be (JSON.stringify then throws), and building it holds the
 * event loop for as long. Between pieces it waits for the next turn of the event loop, so
 * heartbeats are received between them; each host is read when its piece is built, so it is
 * as fresh as the piece. A host whose JSON throws is left out and reported, and the rest go on.
 */
export async function* hostPieces(
  names: readonly string[],
  source: HostSource,
  pieceChars = PIECE_CHARS,
): AsyncGenerator<HostPiece> {
  let index = 0;
  while (index < names.length) {
    await fairTurn();
    const parts: string[] = [];
    let chars = 0;
    while (index < names.length && chars < pieceChars) {
      const name = names[index++]!;
      const text = hostText(name, source);
      if (text === undefined) continue;
      parts.push(text);
      chars += text.length + 1;
    }
    if (parts.length > 0) yield { text: parts.join(','), count: parts.length };
  }
}

function hostText(name: string, source: HostSource): string | undefined {
  try {
    const json = source.json(name);
    return json === undefined ? undefined : JSON.stringify(json);
  } catch (error) {
    source.onHostError(name, error);
    return undefined;
  }
}
