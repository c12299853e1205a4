/**
 * Bounded zlib inflation for hb/1: a compressed payload inflates to at most a fixed number
 * of bytes, and refusing one that would inflate further (a zlib bomb) must cost no more
 * than reading a valid heartbeat, or a flood of bombs would be the cheapest way to load hbd.
 *
 * `inflateSync` with `maxOutputLength` is correct but dear on hostile input: it builds a
 * new zlib engine per call, inflates a whole 16 KiB chunk before checking the bound, and
 * refuses by throwing an error whose stack is captured in full (40–50 µs a bomb, about
 * 190 µs for bytes that only look like zlib). The reusable inflater below keeps one engine,
 * inflates into one buffer a byte larger than the bound (a full buffer means "too large",
 * without inflating further) and learns of a bad stream from a flag instead of an error:
 * about 2 µs either way. It reaches one level below Node's public zlib API (the handle the
 * sync functions use), so it checks that level is there and falls back to `inflateSync`.
 */
import zlib from 'node:zlib';

/** The inflated bytes; 'too large' past the bound; 'not zlib' when it does not inflate cleanly. */
export type Inflated = Uint8Array | 'too large' | 'not zlib';

/**
 * Inflates one payload. The bytes returned are valid until the next call (the reusable
 * inflater writes every result into the same buffer): decode them before inflating again.
 */
export type Inflater = (payload: Uint8Array) => Inflated;

/** The fastest inflater this Node offers. */
export function createInflater(maxBytes: number): Inflater {
  return reusableInflater(maxBytes) ?? portableInflater(maxBytes);
}

/** What Node's zlib engines use internally for `inflateSync` (lib/zlib.js, `processChunkSync`). */
interface ZlibHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inputOffset: number,
    inputLength: number,
    output: Uint8Array,
    outputOffset: number,
    outputLength: number,
  ): void;
  reset(): void;
  onerror: (...args: unknown[]) => void;
}

interface EngineInternals {
  _handle?: Partial<ZlibHandle> | null;
  /** After a write: [output bytes left, input bytes left]. */
  _writeState?: unknown;
}

/** One zlib engine reused for every payload; undefined where this Node's zlib is built differently. */
export function reusableInflater(maxBytes: number): Inflater | undefined {
  const engine = zlib.createInflate() as unknown as EngineInternals;
  const handle = engine._handle;
  const state = engine._writeState;
  if (
    typeof handle?.writeSync !== 'function' ||
    typeof handle.reset !== 'function' ||
    !(state instanceof Uint32Array) ||
    state.length < 2
  ) {
    return undefined;
  }
  const zlibHandle = handle as ZlibHandle;
  let failed = false;
  // The stream's own handler would destroy the engine; a bad payload only fails its own call.
  zlibHandle.onerror = () => {
    failed = true;
  };
  // One byte more than allowed: if zlib fills it, the payload inflates past the bound.
  const output = Buffer.alloc(maxBytes + 1);
  return (payload) => {
    failed = false;
    zlibHandle.writeSync(zlib.constants.Z_FINISH, payload, 0, payload.length, output, 0, output.length);
    const outputLeft = state[0]!;
    const inputLeft = state[1]!;
    zlibHandle.reset();
    // `engine` is named here so it lives as long as its handle does.
    if (failed || engine._handle !== handle) return 'not zlib';
    if (outputLeft === 0) return 'too large';
    // Bytes after the end of the stream: it does not inflate cleanly.
    if (inputLeft !== 0) return 'not zlib';
    return output.subarray(0, output.length - outputLeft);
  };
}

interface InflateInfo {
  buffer: Buffer;
  engine: { bytesWritten: number };
}

/** Node's public API only: correct everywhere, dearer on hostile input (see the top of this file). */
export function portableInflater(maxBytes: number): Inflater {
  return (payload) => {
    try {
      // `info` exposes how many input bytes the stream used, the only way the sync API
      // tells trailing bytes after the end of the stream (which is not clean).
      const { buffer, engine } = zlib.inflateSync(payload, {
        maxOutputLength: maxBytes,
        info: true,
      }) as unknown as InflateInfo;
      return engine.bytesWritten === payload.length ? buffer : 'not zlib';
    } catch (error) {
      return (error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE' ? 'too large' : 'not zlib';
    }
  };
}
