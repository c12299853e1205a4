/**
 * A bare HTTP/1.1 client over a TCP socket, for the isolation bench: it sees the response as it
 * is on the wire (Content-Length or chunked, and each chunk's size), which Node's own client hides.
 */
import net from 'node:net';

export interface ResponseHead {
  socket: net.Socket;
  status: number;
  headers: Map<string, string>;
  /** Bytes that came after the head in the same read: the start of the body (or of the frames). */
  rest: Buffer;
}

const HEAD_END = Buffer.from('\r\n\r\n');
/** A response head longer than this is not hbd's. */
const MAX_HEAD_BYTES = 64 * 1024;

/** A TCP connection to `url`'s host and port (http://host:port). */
export function connectTcp(url: string): Promise<net.Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

export function requestText(url: string, path: string, headers: Record<string, string> = {}): string {
  const { host } = new URL(url);
  const lines = [`GET ${path} HTTP/1.1`, `Host: ${host}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * Sends `request` on `socket` and resolves with the parsed head. The socket is left paused:
 * the caller attaches its own `data` listener, then resumes it.
 */
export function readResponseHead(socket: net.Socket, request: string): Promise<ResponseHead> {
  return new Promise((resolve, reject) => {
    let head: Buffer = Buffer.alloc(0);
    const fail = (error: Error) => {
      cleanUp();
      socket.destroy();
      reject(error);
    };
    const onClose = () => fail(new Error('connection closed before the response head'));
    const onData = (chunk: Buffer) => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const end = head.indexOf(HEAD_END);
      if (end < 0) {
        if (head.length > MAX_HEAD_BYTES) fail(new Error('response head too long'));
        return;
      }
      socket.pause();
      cleanUp();
      const lines = head.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(lines[0]?.split(' ')[1]);
      const headers = new Map<string, string>();
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      resolve({ socket, status, headers, rest: head.subarray(end + HEAD_END.length) });
    };
    const cleanUp = () => {
      socket.off('data', onData);
      socket.off('error', fail);
      socket.off('close', onClose);
    };
    socket.on('data', onData);
    socket.once('error', fail);
    socket.once('close', onClose);
    socket.write(request);
  });
}

export interface BodyPieces {
  /** The body, as the pieces it arrived in (not concatenated: it may be tens of MB). */
  parts: Buffer[];
  bytes: number;
  /** Pieces as the server framed them: chunks, or 1 for a Content-Length body. */
  pieces: number;
  /** The largest chunk; for a Content-Length body, the whole body (the client cannot see the writes). */
  largestPiece: number;
  chunked: boolean;
}

/**
 * Reads the body after `head` to its end: Content-Length bytes, the last chunk of a chunked
 * body, or the server closing the connection.
 */
export function readBody(head: ResponseHead): Promise<BodyPieces> {
  const chunked = (head.headers.get('transfer-encoding') ?? '').toLowerCase().includes('chunked');
  const contentLength = head.headers.has('content-length')
    ? Number(head.headers.get('content-length'))
    : null;
  const { socket } = head;
  return new Promise((resolve, reject) => {
    const body: BodyPieces = { parts: [], bytes: 0, pieces: 0, largestPiece: 0, chunked };
    const decoder = chunked ? new ChunkDecoder(body) : undefined;
    const finish = () => {
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onError);
      if (!chunked) {
        body.pieces = 1;
        body.largestPiece = body.bytes;
      }
      resolve(body);
    };
    const onData = (chunk: Buffer) => {
      if (decoder) {
        try {
          if (decoder.push(chunk)) finish();
        } catch (error) {
          socket.destroy();
          reject(error);
        }
        return;
      }
      body.parts.push(chunk);
      body.bytes += chunk.length;
      if (contentLength !== null && body.bytes >= contentLength) finish();
    };
    const onClose = () => {
      if (contentLength === null && !chunked) finish();
      else reject(new Error(`connection closed after ${body.bytes} bytes of the body`));
    };
    const onError = (error: Error) => reject(error);
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onError);
    if (contentLength === 0) finish();
    else if (head.rest.length > 0) onData(head.rest);
    socket.resume();
  });
}

/** Decodes `Transfer-Encoding: chunked` as it arrives, noting each chunk's size. */
class ChunkDecoder {
  readonly #body: BodyPieces;
  #sizeLine = '';
  /** Bytes of the current chunk's data still to come; -1 while reading a size line. */
  #remaining = -1;
  /** The CRLF after a chunk's data. */
  #skip = 0;
  #done = false;

  constructor(body: BodyPieces) {
    this.#body = body;
  }

  /** Takes the next bytes; true once the last (zero-length) chunk has arrived. */
  push(data: Buffer): boolean {
    let at = 0;
    while (at < data.length && !this.#done) {
      if (this.#skip > 0) {
        const skipped = Math.min(this.#skip, data.length - at);
        this.#skip -= skipped;
        at += skipped;
      } else if (this.#remaining > 0) {
        const take = Math.min(this.#remaining, data.length - at);
        this.#body.parts.push(data.subarray(at, at + take));
        this.#body.bytes += take;
        this.#remaining -= take;
        at += take;
        if (this.#remaining === 0) this.#skip = 2;
      } else {
        const newline = data.indexOf(0x0a, at);
        const end = newline < 0 ? data.length : newline;
        this.#sizeLine += data.subarray(at, end).toString('latin1');
        at = end + (newline < 0 ? 0 : 1);
        if (newline < 0) continue;
        const size = Number.parseInt(this.#sizeLine.split(';')[0]!.trim(), 16);
        this.#sizeLine = '';
        if (!Number.isFinite(size)) throw new Error('bad chunk size line');
        // The trailer after the last chunk is not waited for: the body is complete.
        if (size === 0) this.#done = true;
        else {
          this.#body.pieces++;
          this.#body.largestPiece = Math.max(this.#body.largestPiece, size);
          this.#remaining = size;
        }
      }
    }
    return this.#done;
  }
}

/** The body as one string, for JSON.parse (after timing). */
export function bodyText(parts: readonly Buffer[]): string {
  return Buffer.concat(parts).toString('utf8');
}
