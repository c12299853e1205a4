import dgram from 'node:dgram';
import { isIPv4 } from 'node:net';

export interface UdpListenerOptions {
  host: string;
  port: number;
  /** Requested SO_RCVBUF in bytes; the kernel caps it at net.core.rmem_max. */
  receiveBufferSize: number;
  onDatagram: (datagram: Buffer, source: string) => void;
  /** Errors after the socket is bound (they are rare, and must not crash hbd). */
  onError: (error: Error) => void;
}

export interface UdpListener {
  readonly address: { host: string; port: number };
  /** What the kernel granted, which may be less than asked for. */
  readonly receiveBufferSize: number;
  close(): Promise<void>;
}

/**
 * Binds the heartbeat socket. `::` is dual-stack, so one socket hears IPv4 and IPv6;
 * IPv4 sources then arrive as `::ffff:a.b.c.d` and are reported in plain form.
 * Nothing is ever sent back: a reply would make hbd a reflector.
 */
export async function listenUdp(options: UdpListenerOptions): Promise<UdpListener> {
  const socket = dgram.createSocket({
    type: isIPv4(options.host) ? 'udp4' : 'udp6',
    ipv6Only: false,
    recvBufferSize: options.receiveBufferSize,
  });
  const { onDatagram } = options;
  socket.on('message', (datagram, remote) => {
    const address = remote.address;
    onDatagram(
      datagram,
      address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address,
    );
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(options.port, options.host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('error', options.onError);
  const bound = socket.address();
  return {
    address: { host: bound.address, port: bound.port },
    receiveBufferSize: socket.getRecvBufferSize(),
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
