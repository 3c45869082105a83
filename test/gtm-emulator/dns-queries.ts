/**
 * Raw DNS queries to the emulator's DNS server, over UDP and over TCP (length-prefixed), for the
 * DNS tests of both GTM generations: what a resolver library would hide (flags, ids, rcodes).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';
import dnsPacket, { type DecodedPacket } from 'dns-packet';

export interface DnsServerAddress {
  host: string;
  port: number;
}

export async function udpQuery(server: DnsServerAddress, packet: dnsPacket.Packet): Promise<DecodedPacket> {
  const socket = dgram.createSocket('udp4');
  try {
    socket.send(dnsPacket.encode(packet), server.port, server.host);
    const [message] = (await once(socket, 'message')) as [Buffer];
    return dnsPacket.decode(message);
  } finally {
    socket.close();
  }
}

export async function tcpQuery(server: DnsServerAddress, packet: dnsPacket.Packet): Promise<DecodedPacket> {
  const socket = net.connect(server.port, server.host);
  await once(socket, 'connect');
  socket.write(dnsPacket.streamEncode(packet));
  let received = Buffer.alloc(0);
  for await (const chunk of socket) {
    received = Buffer.concat([received, chunk as Buffer]);
    if (received.length >= 2 && received.length >= received.readUInt16BE(0) + 2) break;
  }
  socket.destroy();
  return dnsPacket.streamDecode(received) as DecodedPacket;
}
