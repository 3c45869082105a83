import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';
import dnsPacket, { type Answer, type DecodedPacket, type Packet } from 'dns-packet';
import type { Logger } from '#shared/platform/log.ts';
import { errorMessage } from '#shared/platform/errors.ts';
import { resolveDomain, type ResolveInput } from './resolve.ts';
import { normalizeDomain, type GtmStore } from './state.ts';

/**
 * An authoritative DNS server for the instance's domain, on loopback UDP and TCP (same port).
 * A / AAAA queries for a served name get the addresses of resolve.ts with the instance TTL;
 * other names get NXDOMAIN; other types of a served name get NOERROR with no answer.
 */

const FLAG_AUTHORITATIVE = 0x0400;
const FLAG_RECURSION_DESIRED = 0x0100;
const OPCODE_MASK = 0x7800;
const RCODE = { NOERROR: 0, FORMERR: 1, NXDOMAIN: 3, NOTIMP: 4 } as const;
const MAX_UDP_PAYLOAD = 512;

/** What the server answers for: the GTM 2.0 instance (its store) or a 3.0 instance's configurations. */
export interface DnsZone {
  servedNames(): string[];
  /** The records of a served name for an A / AAAA query. */
  resolve(name: string, input: ResolveInput): { ttl: number; records: Array<{ type: 'A' | 'AAAA' | 'CNAME'; data: string }> };
}

interface DnsServerBase {
  host: string;
  port: number;
  logger: Logger;
  random?: () => number;
}

export type DnsServerOptions = DnsServerBase & ({ store: GtmStore } | { zone: DnsZone });

/** The 2.0 instance as a zone: its user domain and CNAME access domain, answered by resolve.ts. */
function gtm2Zone(store: GtmStore): DnsZone {
  return { servedNames: () => store.servedNames(), resolve: (_name, input) => resolveDomain(store, input) };
}

/** Tries for a free port number, when any will do: UDP's choice may be taken for TCP (an outgoing connection's ephemeral port). */
const ANY_PORT_ATTEMPTS = 20;

/**
 * A UDP socket and a TCP server on the same port number, so that `dig +tcp` works against the same
 * address. With port 0, the port UDP got may already be in use for TCP: then both are given up and
 * another port is tried.
 */
async function bindSamePort(options: DnsServerOptions): Promise<{ udp: dgram.Socket; tcp: net.Server }> {
  for (let attempt = 1; ; attempt += 1) {
    const udp = dgram.createSocket('udp4');
    udp.bind(options.port, options.host);
    await once(udp, 'listening');
    const tcp = net.createServer();
    try {
      tcp.listen(udp.address().port, options.host);
      await once(tcp, 'listening');
      return { udp, tcp };
    } catch (err) {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      const taken = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (!taken || options.port !== 0 || attempt >= ANY_PORT_ATTEMPTS) throw err;
    }
  }
}

export class GtmDnsServer {
  private rotation = 0;
  private readonly tcpSockets = new Set<net.Socket>();
  private readonly zone: DnsZone;

  private constructor(
    private readonly options: DnsServerOptions,
    private readonly udp: dgram.Socket,
    private readonly tcp: net.Server,
  ) {
    this.zone = 'zone' in options ? options.zone : gtm2Zone(options.store);
  }

  static async start(options: DnsServerOptions): Promise<GtmDnsServer> {
    const { udp, tcp } = await bindSamePort(options);
    const server = new GtmDnsServer(options, udp, tcp);
    udp.on('message', (message, remote) => {
      const reply = server.answer(message, MAX_UDP_PAYLOAD);
      if (reply) udp.send(reply, remote.port, remote.address);
    });
    udp.on('error', (err) => options.logger.warn('gtm emulator: dns udp error', { error: errorMessage(err) }));
    tcp.on('connection', (socket) => server.serveTcp(socket));
    return server;
  }

  address(): { host: string; port: number } {
    return { host: this.options.host, port: this.udp.address().port };
  }

  async stop(): Promise<void> {
    for (const socket of this.tcpSockets) socket.destroy();
    await Promise.all([
      new Promise<void>((resolve) => this.udp.close(() => resolve())),
      new Promise<void>((resolve) => this.tcp.close(() => resolve())),
    ]);
  }

  /** The wire reply to one query, or undefined when the bytes are not a DNS query at all. */
  answer(message: Buffer, maxSize: number): Buffer | undefined {
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return message.length >= 12 ? headerOnlyReply(message, RCODE.FORMERR) : undefined;
    }
    if (query.type === 'response') return undefined;
    const base = {
      id: query.id ?? 0,
      type: 'response' as const,
      questions: query.questions ?? [],
      answers: [] as Answer[],
    };
    const echoed = ((query.flags ?? 0) & (OPCODE_MASK | FLAG_RECURSION_DESIRED)) | FLAG_AUTHORITATIVE;
    const question = query.questions?.[0];
    if (((query.flags ?? 0) & OPCODE_MASK) !== 0) return dnsPacket.encode({ ...base, flags: echoed | RCODE.NOTIMP });
    if (!question || (query.questions?.length ?? 0) !== 1) return dnsPacket.encode({ ...base, flags: echoed | RCODE.FORMERR });
    if (!this.zone.servedNames().includes(normalizeDomain(question.name))) {
      return dnsPacket.encode({ ...base, flags: echoed | RCODE.NXDOMAIN });
    }
    const answers: Answer[] = [];
    if (question.type === 'A' || question.type === 'AAAA') {
      this.rotation += 1;
      const resolution = this.zone.resolve(normalizeDomain(question.name), {
        queryType: question.type,
        rotation: this.rotation,
        random: this.options.random ?? Math.random,
      });
      for (const record of resolution.records)
        answers.push({ type: record.type, name: question.name, ttl: resolution.ttl, class: 'IN', data: record.data });
    }
    const reply: Packet = { ...base, flags: echoed | RCODE.NOERROR, answers };
    const encoded = dnsPacket.encode(reply);
    // Too large for UDP: send the header with TC set, the client retries over TCP.
    return encoded.length > maxSize ? dnsPacket.encode({ ...base, flags: echoed | dnsPacket.TRUNCATED_RESPONSE }) : encoded;
  }

  private serveTcp(socket: net.Socket): void {
    this.tcpSockets.add(socket);
    socket.on('close', () => this.tcpSockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2) {
        const length = pending.readUInt16BE(0);
        if (pending.length < length + 2) break;
        const reply = this.answer(pending.subarray(2, length + 2), 65535);
        pending = pending.subarray(length + 2);
        if (!reply) {
          socket.destroy();
          return;
        }
        const framed = Buffer.alloc(reply.length + 2);
        framed.writeUInt16BE(reply.length, 0);
        reply.copy(framed, 2);
        socket.write(framed);
      }
    });
  }
}

/** A reply made of the query's own header, for queries dns-packet cannot parse. */
function headerOnlyReply(message: Buffer, rcode: number): Buffer {
  const reply = Buffer.alloc(12);
  message.copy(reply, 0, 0, 2);
  const flags = message.readUInt16BE(2);
  reply.writeUInt16BE(0x8000 | (flags & (OPCODE_MASK | FLAG_RECURSION_DESIRED)) | rcode, 2);
  return reply;
}
