/**
 * A bare WebSocket client (RFC 6455) for the isolation bench. It sees frames as the server
 * framed them, so a snapshot sent as one huge frame, as several messages or as the fragments
 * of one message each shows as what it is (the `ws` client only hands over whole messages).
 */
import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import { connectTcp, requestText } from './raw-http.js';

export const OPCODE_CLOSE = 0x8;
/** Opcodes from here on are control frames (close, ping, pong), which may come between fragments. */
const FIRST_CONTROL_OPCODE = 0x8;

export interface Frame {
  fin: boolean;
  opcode: number;
  /** The payload as it arrived, in pieces (a snapshot frame may be tens of MB). */
  payload: Buffer[];
  length: number;
}

/** The request that opens `/ws`. */
export function upgradeRequest(url: string): string {
  return requestText(url, '/ws', {
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
    'Sec-WebSocket-Version': '13',
  });
}

/**
 * Asks for `/ws` and then never reads a byte, not even the answer: the client that stopped
 * reading, whose unread frames pile up in hbd unless it is cut off.
 */
export async function openStalledFeed(url: string): Promise<net.Socket> {
  const socket = await connectTcp(url);
  socket.pause();
  // Whatever happens to it is seen by hbd, not here; an error must not end the bench.
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) =>
    socket.write(upgradeRequest(url), (error) => (error ? reject(error) : resolve())),
  );
  return socket;
}

/** A client's close frame: masked (as every client frame must be), with no status code. */
export const CLOSE_FRAME = Buffer.from([0x80 | OPCODE_CLOSE, 0x80, 0, 0, 0, 0]);

/** Splits the server's byte stream into frames, without copying their payloads. */
export class FrameReader {
  #head: Buffer = Buffer.alloc(0);
  #frame: Frame | undefined;
  /** Payload bytes of `#frame` still to come. */
  #remaining = 0;

  push(data: Buffer, onFrame: (frame: Frame) => void): void {
    let rest = data;
    while (rest.length > 0) {
      if (this.#frame) {
        const take = Math.min(this.#remaining, rest.length);
        this.#frame.payload.push(rest.subarray(0, take));
        this.#remaining -= take;
        rest = rest.subarray(take);
        if (this.#remaining === 0) this.#emit(onFrame);
        continue;
      }
      this.#head = this.#head.length === 0 ? rest : Buffer.concat([this.#head, rest]);
      rest = Buffer.alloc(0);
      const parsed = parseFrameHead(this.#head);
      if (!parsed) continue;
      rest = this.#head.subarray(parsed.headBytes);
      this.#head = Buffer.alloc(0);
      this.#frame = { fin: parsed.fin, opcode: parsed.opcode, payload: [], length: parsed.length };
      this.#remaining = parsed.length;
      if (parsed.length === 0) this.#emit(onFrame);
    }
  }

  #emit(onFrame: (frame: Frame) => void): void {
    const frame = this.#frame!;
    this.#frame = undefined;
    onFrame(frame);
  }
}

/** The frame head at the start of `bytes`, or undefined while it is incomplete. */
function parseFrameHead(
  bytes: Buffer,
): { fin: boolean; opcode: number; length: number; headBytes: number } | undefined {
  if (bytes.length < 2) return undefined;
  const short = bytes[1]! & 0x7f;
  const masked = (bytes[1]! & 0x80) !== 0;
  const lengthBytes = short === 126 ? 2 : short === 127 ? 8 : 0;
  const headBytes = 2 + lengthBytes + (masked ? 4 : 0);
  if (bytes.length < headBytes) return undefined;
  if (masked) throw new Error('the server sent a masked frame');
  const length =
    short === 126 ? bytes.readUInt16BE(2) : short === 127 ? Number(bytes.readBigUInt64BE(2)) : short;
  return { fin: (bytes[0]! & 0x80) !== 0, opcode: bytes[0]! & 0x0f, length, headBytes };
}

export function isControlFrame(frame: Frame): boolean {
  return frame.opcode >= FIRST_CONTROL_OPCODE;
}
