import http from 'node:http';
import { once } from 'node:events';
import { systemClock, type Clock } from '#shared/platform/clock.ts';
import { createLogger, type Logger } from '#shared/platform/log.ts';
import { GtmApiError, type ThrottleCode } from './api-error.ts';
import { gtmActions } from './actions.ts';
import { createCloudGtmInstance, type CloudGtmEmulatorState, type CloudGtmInstance } from './cloudgtm/instance.ts';
import type { CloudHealthChange } from './cloudgtm/probes.ts';
import { GtmDnsServer } from './dns-server.ts';
import { readGtmState, restoreInto, snapshotOf, writeGtmState } from './persistence.ts';
import { HealthProber, type HealthChange } from './probes.ts';
import { resolveDomain } from './resolve.ts';
import { RpcServer, type BoundAction } from './rpc-server.ts';
import { GtmStore, healthKey } from './state.ts';

/**
 * The local GTM emulator of the twin: one instance, GTM 2.0 (the `DnsGtm*` actions) or GTM 3.0
 * (the `CloudGtm*` actions, cloudgtm/), over HTTP with signature checks (pop-core's endpoint points
 * here), real health checks, and DNS answers for the instance's domain(s).
 */

export type { HealthChange } from './probes.ts';
export type { CloudHealthChange } from './cloudgtm/probes.ts';

/** Which generation of GTM the instance is: its actions, model, health checks and DNS answers. */
export type GtmVersion = '2.0' | '3.0';
const GTM_VERSIONS: readonly GtmVersion[] = ['2.0', '3.0'];

export interface GtmEmulatorOptions {
  /** Default 2.0. */
  gtmVersion?: GtmVersion;
  accessKeyId: string;
  accessKeySecret: string;
  instanceId?: string;
  /** 0 (the default) picks a free port. */
  httpPort?: number;
  /** 0 (the default) picks a free port. */
  dnsPort?: number;
  /** Multiplies every health-check interval: 0.05 turns 60 s into 3 s. Default 1 (real time). */
  probeIntervalScale?: number;
  /** Where a probe really connects, e.g. the sandbox data plane listens on 8080, not 80. */
  probePortOverride?: (addr: string, port: number) => number;
  logger?: Logger;
  clock?: Clock;
  /** Picks RATIO answers; tests pass a seeded one. */
  random?: () => number;
  /**
   * Keep the instance in this JSON file and start from what it holds (the local twin resumes after
   * a crash). `mustExist`: the file must already be there (a resume). Without it, state is in memory.
   */
  state?: { file: string; mustExist?: boolean };
}

interface AddressState {
  addr: string;
  mode: string;
  /** The health check's verdict (true without a monitor). */
  healthy: boolean;
  /** Whether DNS may return it: the mode and the verdict together. */
  available: boolean;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  lastCheckedAt?: number;
  lastResult?: string;
}

interface GtmEmulatorState {
  instanceId: string;
  domain?: string;
  ttl: number;
  config: GtmStore['config'];
  pools: Array<{ id: string; name: string; type: string; lbaStrategy: string; monitorConfigId?: string; addresses: AddressState[] }>;
  monitors: Array<{
    id: string;
    poolId: string;
    protocolType: string;
    interval: number;
    evaluationCount: number;
    timeout: number;
    status: string;
    extendInfo: string;
    probeIntervalMs: number;
  }>;
  strategies: Array<{
    id: string;
    name: string;
    accessMode: string;
    defaultPoolIds: string[];
    failoverPoolIds: string[];
    defaultMinAvailableAddrNum: number;
    effective: 'DEFAULT' | 'FAILOVER';
    defaultAvailable: number;
    failoverAvailable: number;
  }>;
  /** What an A query for the domain would return now (without advancing the rotation). */
  answer: string[];
}

export interface GtmEmulator {
  /** `http://127.0.0.1:<port>`: what pop-core's RPCClient gets as `endpoint`. */
  endpoint: string;
  dnsAddress: { host: string; port: number };
  instanceId: string;
  gtmVersion: GtmVersion;
  probeIntervalScale: number;
  /** The 2.0 instance's state; a 3.0 emulator throws (use cloudState). */
  state(): GtmEmulatorState;
  /** The 3.0 instance's state; a 2.0 emulator throws (use state). */
  cloudState(): CloudGtmEmulatorState;
  /** One line for humans: endpoints, domain, and that probe intervals are scaled. */
  describe(): string;
  /** The next `count` signed requests are refused with a throttling code. */
  throttleNext(count: number, code?: ThrottleCode): void;
  /** Requests that reached an action, by action name. */
  callCounts(): Record<string, number>;
  /** Called on every health transition of an address (2.0); returns a function that unsubscribes. */
  onHealthChange(listener: (change: HealthChange) => void): () => void;
  /** Called on every health transition of an address's health task (3.0); returns a function that unsubscribes. */
  onCloudHealthChange(listener: (change: CloudHealthChange) => void): () => void;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

export async function startGtmEmulator(options: GtmEmulatorOptions): Promise<GtmEmulator> {
  const clock = options.clock ?? systemClock;
  const logger = (options.logger ?? createLogger()).child({ fn: 'gtm-emulator' });
  const scale = options.probeIntervalScale ?? 1;
  if (!(scale > 0)) throw new RangeError(`probeIntervalScale must be greater than 0, got ${scale}`);
  const version = options.gtmVersion ?? '2.0';
  if (!GTM_VERSIONS.includes(version)) throw new RangeError(`gtmVersion must be 2.0 or 3.0, got ${String(version)}`);
  const cloudListeners = new Set<(change: CloudHealthChange) => void>();
  const cloud: CloudGtmInstance | undefined =
    version === '3.0'
      ? createCloudGtmInstance({
          ...(options.instanceId === undefined ? {} : { instanceId: options.instanceId }),
          clock,
          logger,
          intervalScale: scale,
          ...(options.probePortOverride ? { portOverride: options.probePortOverride } : {}),
          ...(options.state ? { state: options.state } : {}),
          onHealthChange: (change) => {
            for (const listener of cloudListeners) listener(change);
          },
        })
      : undefined;
  // A 3.0 emulator keeps the 2.0 model empty and never reads or writes a 2.0 state file.
  const saved = options.state && !cloud ? readGtmState(options.state.file, { mustExist: options.state.mustExist ?? false }) : undefined;
  if (saved && options.instanceId !== undefined && saved.instanceId !== options.instanceId) {
    throw new Error(`gtm emulator: ${options.state?.file} holds instance ${saved.instanceId}, not ${options.instanceId}`);
  }
  const store = new GtmStore(saved?.instanceId ?? options.instanceId ?? 'gtm-cn-local', saved?.createdAt ?? clock.now());
  if (saved) restoreInto(store, saved);
  const stateFile = options.state?.file;
  const persist = cloud ? cloud.persist : stateFile ? () => writeGtmState(stateFile, snapshotOf(store)) : () => undefined;
  persist();
  const listeners = new Set<(change: HealthChange) => void>();
  const prober = new HealthProber({
    store,
    clock,
    logger,
    intervalScale: scale,
    ...(options.probePortOverride ? { portOverride: options.probePortOverride } : {}),
    onChange: (change) => {
      persist();
      for (const listener of listeners) listener(change);
    },
  });
  const actions: Record<string, BoundAction> =
    cloud?.actions ??
    Object.fromEntries(
      Object.entries(gtmActions).map(([name, handler]): [string, BoundAction] => [
        name,
        (params, now) => handler({ params, store, now, probesChanged: () => prober.sync() }),
      ]),
    );
  const otherFamily = cloud ? 'DnsGtm' : 'CloudGtm';
  const rpc = new RpcServer({
    accessKeyId: options.accessKeyId,
    accessKeySecret: options.accessKeySecret,
    actions,
    otherGeneration: (action) =>
      action.includes(otherFamily)
        ? new GtmApiError(
            'UnsupportedOperation',
            400,
            `The specified action "${action}" is not supported: instance ${cloud?.store.instanceId ?? store.instanceId} is a GTM ${version} instance${cloud ? '' : ' (CloudGtm* actions are GTM 3.0)'}.`,
          )
        : undefined,
    clock,
    logger,
    changed: persist,
  });
  prober.sync();
  cloud?.startProbes();
  const httpServer = http.createServer(rpc.handle);
  httpServer.listen(options.httpPort ?? 0, HOST);
  await once(httpServer, 'listening');
  const httpAddress = httpServer.address();
  if (httpAddress === null || typeof httpAddress === 'string') throw new Error('gtm emulator: http server has no port');
  let dns: GtmDnsServer;
  try {
    dns = await GtmDnsServer.start({
      ...(cloud ? { zone: cloud.zone } : { store }),
      host: HOST,
      port: options.dnsPort ?? 0,
      logger,
      ...(options.random ? { random: options.random } : {}),
    });
  } catch (err) {
    httpServer.close();
    throw err;
  }
  const endpoint = `http://${HOST}:${httpAddress.port}`;
  const dnsAddress = dns.address();
  const scaleNote =
    scale === 1
      ? 'probe intervals in real time'
      : `probe intervals scaled by ${scale} (a 60 s interval probes every ${Number((60 * scale).toFixed(3))} s)`;
  const instanceId = cloud?.store.instanceId ?? store.instanceId;
  logger.info('gtm emulator started', {
    endpoint,
    dns: `${dnsAddress.host}:${dnsAddress.port}`,
    instanceId,
    gtmVersion: version,
    probeIntervalScale: scale,
    note: scaleNote,
  });

  const state = (): GtmEmulatorState => {
    if (cloud) throw new Error(`gtm emulator: ${instanceId} is a GTM 3.0 instance; read it with cloudState()`);
    return state2();
  };
  const state2 = (): GtmEmulatorState => ({
    instanceId: store.instanceId,
    ...(store.config.publicUserDomainName ? { domain: store.config.publicUserDomainName } : {}),
    ttl: store.config.ttl,
    config: structuredClone(store.config),
    pools: [...store.pools.values()].map((pool) => ({
      id: pool.id,
      name: pool.name,
      type: pool.type,
      lbaStrategy: pool.lbaStrategy,
      ...(pool.monitorConfigId ? { monitorConfigId: pool.monitorConfigId } : {}),
      addresses: pool.addresses.map((address) => {
        const health = store.health.get(healthKey(pool.id, address.addr));
        return {
          addr: address.addr,
          mode: address.mode,
          healthy: store.isHealthy(pool, address.addr),
          available: store.isAvailable(pool, address),
          consecutiveFailures: health?.consecutiveFailures ?? 0,
          consecutiveSuccesses: health?.consecutiveSuccesses ?? 0,
          ...(health?.lastCheckedAt === undefined ? {} : { lastCheckedAt: health.lastCheckedAt }),
          ...(health?.lastResult === undefined ? {} : { lastResult: health.lastResult }),
        };
      }),
    })),
    monitors: [...store.monitors.values()].map((monitor) => ({
      id: monitor.id,
      poolId: monitor.poolId,
      protocolType: monitor.protocolType,
      interval: monitor.interval,
      evaluationCount: monitor.evaluationCount,
      timeout: monitor.timeout,
      status: monitor.status,
      extendInfo: monitor.extendInfo,
      probeIntervalMs: prober.intervalMs(monitor),
    })),
    strategies: [...store.strategies.values()].map((strategy) => {
      const evaluation = store.evaluate(strategy);
      return {
        id: strategy.id,
        name: strategy.name,
        accessMode: strategy.accessMode,
        defaultPoolIds: strategy.defaultPools.map((ref) => ref.id),
        failoverPoolIds: strategy.failoverPools.map((ref) => ref.id),
        defaultMinAvailableAddrNum: strategy.defaultMinAvailableAddrNum,
        effective: evaluation.effective,
        defaultAvailable: evaluation.defaultAvailable,
        failoverAvailable: evaluation.failoverAvailable,
      };
    }),
    answer: resolveDomain(store, { queryType: 'A', rotation: 0, random: () => 0 }).records.map((record) => record.data),
  });

  const domains = () =>
    cloud
      ? cloud.store.servedNames().join(', ') || '(no instance configuration yet)'
      : `${store.config.publicUserDomainName ?? '(no domain configured yet)'}, TTL ${store.config.ttl} s`;
  let stopped = false;
  return {
    endpoint,
    dnsAddress,
    instanceId,
    gtmVersion: version,
    probeIntervalScale: scale,
    state,
    cloudState: () => {
      if (!cloud) throw new Error(`gtm emulator: ${instanceId} is a GTM 2.0 instance; read it with state()`);
      return cloud.view();
    },
    describe: () =>
      `GTM ${version} emulator ${instanceId}: RPC ${endpoint}, DNS ${dnsAddress.host}:${dnsAddress.port} (UDP+TCP) for ${domains()}; ${scaleNote}`,
    throttleNext: (count, code) => rpc.throttleNext(count, code),
    callCounts: () => rpc.callCounts(),
    onHealthChange: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onCloudHealthChange: (listener) => {
      cloudListeners.add(listener);
      return () => cloudListeners.delete(listener);
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      prober.stop();
      cloud?.stop();
      httpServer.closeAllConnections();
      await Promise.all([new Promise<void>((resolve) => httpServer.close(() => resolve())), dns.stop()]);
      logger.info('gtm emulator stopped', { instanceId });
    },
  };
}
