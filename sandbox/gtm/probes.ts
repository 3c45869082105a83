import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Clock } from '#shared/platform/clock.ts';
import type { Logger } from '#shared/platform/log.ts';
import { errorMessage } from '#shared/platform/errors.ts';
import { healthKey, type AddressHealth, type GtmMonitor, type GtmStore } from './state.ts';

/**
 * Real health checks, run from this machine, as each pool's monitor configures them.
 *
 * Rule: an address turns unhealthy after `EvaluationCount` consecutive failed checks (the facts
 * file: "consecutive failures before unhealthy") and healthy again after as many consecutive
 * successes (the facts file says nothing about recovery; symmetric is the emulator's choice).
 * An HTTP(S) check fails on an error, a timeout, or a status greater than `code` (facts file,
 * `codeKey`; default 500 here). With one probing location, `failureRate` has nothing to average and
 * is ignored; so are the ISP/city nodes. PING cannot be sent without privileges: such checks are
 * not run and their addresses count as healthy. Only loopback addresses are probed (the sandbox
 * has no other network); any other address fails its check.
 */

export interface HealthChange {
  poolId: string;
  addr: string;
  healthy: boolean;
  at: number;
  lastResult: string;
}

export interface ProberOptions {
  store: GtmStore;
  clock: Clock;
  logger: Logger;
  /** Multiplies every interval (0.05: a 60 s interval probes every 3 s). */
  intervalScale: number;
  portOverride?: (addr: string, port: number) => number;
  onChange(change: HealthChange): void;
}

const DEFAULT_FAILURE_CODE = 500;

interface ProbeLoop {
  configKey: string;
  timer?: NodeJS.Timeout;
}

export class HealthProber {
  private readonly loops = new Map<string, ProbeLoop>();
  private readonly stopController = new AbortController();

  constructor(private readonly options: ProberOptions) {}

  /** Starts, restarts or ends probe loops so that they match the monitors now configured. */
  sync(): void {
    if (this.stopController.signal.aborted) return;
    const wanted = new Map<string, GtmMonitor>();
    for (const monitor of this.options.store.monitors.values()) {
      if (monitor.status === 'OPEN' && monitor.protocolType !== 'PING') wanted.set(monitor.id, monitor);
    }
    for (const [id, loop] of this.loops) {
      const monitor = wanted.get(id);
      if (!monitor || configKey(monitor) !== loop.configKey) {
        clearTimeout(loop.timer);
        this.loops.delete(id);
      }
    }
    for (const [id, monitor] of wanted) {
      if (this.loops.has(id)) continue;
      const loop: ProbeLoop = { configKey: configKey(monitor) };
      this.loops.set(id, loop);
      void this.cycle(id, loop);
    }
  }

  stop(): void {
    this.stopController.abort();
    for (const loop of this.loops.values()) clearTimeout(loop.timer);
    this.loops.clear();
  }

  intervalMs(monitor: GtmMonitor): number {
    return Math.max(10, monitor.interval * 1000 * this.options.intervalScale);
  }

  private async cycle(monitorId: string, loop: ProbeLoop): Promise<void> {
    const { store, clock } = this.options;
    const monitor = store.monitors.get(monitorId);
    const pool = monitor ? store.pools.get(monitor.poolId) : undefined;
    if (!monitor || !pool || this.loops.get(monitorId) !== loop) return;
    const startedAt = clock.now();
    const results = await Promise.all(
      pool.addresses.map(async (address) => ({ addr: address.addr, result: await this.probe(monitor, address.addr) })),
    );
    // The configuration may have changed or the emulator stopped while the checks ran: then this loop is over.
    if (this.loops.get(monitorId) !== loop) return;
    const current = new Set(store.pools.get(pool.id)?.addresses.map((address) => address.addr));
    for (const { addr, result } of results) if (current.has(addr)) this.record(monitor, pool.id, addr, result);
    const wait = Math.max(0, this.intervalMs(monitor) - (clock.now() - startedAt));
    loop.timer = setTimeout(() => void this.cycle(monitorId, loop), wait);
  }

  private record(monitor: GtmMonitor, poolId: string, addr: string, result: ProbeResult): void {
    const { store, clock } = this.options;
    const key = healthKey(poolId, addr);
    const before: AddressHealth = store.health.get(key) ?? { healthy: true, consecutiveFailures: 0, consecutiveSuccesses: 0 };
    const after: AddressHealth = {
      healthy: before.healthy,
      consecutiveFailures: result.ok ? 0 : before.consecutiveFailures + 1,
      consecutiveSuccesses: result.ok ? before.consecutiveSuccesses + 1 : 0,
      lastCheckedAt: clock.now(),
      lastResult: result.detail,
    };
    if (before.healthy && after.consecutiveFailures >= monitor.evaluationCount) after.healthy = false;
    if (!before.healthy && after.consecutiveSuccesses >= monitor.evaluationCount) after.healthy = true;
    store.health.set(key, after);
    if (after.healthy !== before.healthy) {
      const change: HealthChange = {
        poolId,
        addr,
        healthy: after.healthy,
        at: after.lastCheckedAt ?? clock.now(),
        lastResult: result.detail,
      };
      this.options.logger.info(after.healthy ? 'gtm emulator: address healthy again' : 'gtm emulator: address unhealthy', { ...change });
      this.options.onChange(change);
    }
  }

  private probe(monitor: GtmMonitor, addr: string): Promise<ProbeResult> {
    return runCheck(monitor, addr, {
      stopSignal: this.stopController.signal,
      ...(this.options.portOverride ? { portOverride: this.options.portOverride } : {}),
    });
  }
}

/** What one check needs: a 2.0 monitor, or a 3.0 health task (template + the address's port). */
export type CheckSpec = Pick<GtmMonitor, 'protocolType' | 'settings' | 'timeout'>;

/** One health check of `addr`, as the rule at the top of this file says; never throws. */
export async function runCheck(
  spec: CheckSpec,
  addr: string,
  options: { stopSignal: AbortSignal; portOverride?: (addr: string, port: number) => number },
): Promise<ProbeResult> {
  if (!isLoopback(addr)) return { ok: false, detail: 'not probed: the local emulator only reaches loopback addresses' };
  const { settings } = spec;
  const defaultPort = spec.protocolType === 'HTTPS' ? 443 : 80;
  const port = options.portOverride?.(addr, settings.port ?? defaultPort) ?? settings.port ?? defaultPort;
  const signal = AbortSignal.any([options.stopSignal, AbortSignal.timeout(spec.timeout)]);
  try {
    if (spec.protocolType === 'TCP') {
      await tcpConnect(addr, port, signal);
      return { ok: true, detail: `tcp ${addr}:${port} connected` };
    }
    const status = await httpStatus(spec, addr, port, signal);
    const failureCode = settings.code ?? DEFAULT_FAILURE_CODE;
    return { ok: status <= failureCode, detail: `${spec.protocolType} ${addr}:${port}${settings.path ?? '/'} -> ${status}` };
  } catch (err) {
    return {
      ok: false,
      detail: `${spec.protocolType} ${addr}:${port} failed: ${signal.aborted ? `no answer within ${spec.timeout} ms` : errorMessage(err)}`,
    };
  }
}

export interface ProbeResult {
  ok: boolean;
  detail: string;
}

function configKey(monitor: GtmMonitor): string {
  const { poolId, protocolType, interval, evaluationCount, timeout, extendInfo } = monitor;
  return JSON.stringify([poolId, protocolType, interval, evaluationCount, timeout, extendInfo]);
}

function isLoopback(addr: string): boolean {
  return (net.isIPv4(addr) && addr.startsWith('127.')) || addr === '::1';
}

function httpStatus(spec: CheckSpec, addr: string, port: number, signal: AbortSignal): Promise<number> {
  const { settings } = spec;
  const secure = spec.protocolType === 'HTTPS';
  const host = settings.host ?? addr;
  return new Promise((resolve, reject) => {
    const request = (secure ? https : http).request(
      {
        host: addr,
        port,
        path: settings.path ?? '/',
        method: 'GET',
        headers: { Host: host, 'User-Agent': 'tricenter-gtm-emulator-probe' },
        signal,
        // A fresh connection per check, like a remote probe; nothing lingers after stop().
        agent: false,
        ...(secure ? { rejectUnauthorized: false, ...(settings.sni ? { servername: host } : {}) } : {}),
      },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    request.on('error', reject);
    request.end();
  });
}

function tcpConnect(addr: string, port: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: addr, port, signal });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}
