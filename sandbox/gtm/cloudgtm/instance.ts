import type { Clock } from '#shared/platform/clock.ts';
import type { Logger } from '#shared/platform/log.ts';
import { GtmApiError, apiErrors } from '../api-error.ts';
import type { DnsZone } from '../dns-server.ts';
import type { ParamReader } from '../params.ts';
import type { BoundAction } from '../rpc-server.ts';
import { cloudGtmActions } from './actions.ts';
import { CloudGtmStore, domainOf, taskKey } from './model.ts';
import { cloudSnapshotOf, readCloudGtmState, restoreCloudInto, writeCloudGtmState } from './persistence.ts';
import { CloudHealthProber, type CloudHealthChange } from './probes.ts';
import { resolveCloudGtm } from './resolve.ts';

/**
 * One GTM 3.0 instance as the emulator runs it: the store (resumed from its state file), the
 * `CloudGtm*` actions bound to it, the health checks, the DNS zone of its configurations, and a
 * read-only view for tests and the twin.
 */

export interface CloudGtmEmulatorState {
  instanceId: string;
  templates: Array<{
    id: string;
    name: string;
    protocol: string;
    interval: number;
    evaluationCount: number;
    timeout: number;
    probeIntervalMs: number;
  }>;
  addresses: Array<{
    id: string;
    name: string;
    address: string;
    type: string;
    enableStatus: string;
    availableMode: string;
    healthStatus: string;
    available: boolean;
    tasks: Array<{
      templateId: string;
      port?: number;
      healthy: boolean;
      consecutiveFailures: number;
      lastCheckedAt?: number;
      lastResult?: string;
    }>;
  }>;
  pools: Array<{
    id: string;
    name: string;
    type: string;
    lbStrategy: string;
    healthStatus: string;
    available: boolean;
    addressIds: string[];
  }>;
  configs: Array<{
    id: string;
    domain: string;
    rrType: string;
    ttl: number;
    lbStrategy: string;
    sequenceMode: string;
    poolIds: string[];
    healthStatus: string;
    /** What a query would get now (rotation 0, weight draw 0), and from which pools. */
    answer: string[];
    answerPools: string[];
    failedOpen: boolean;
  }>;
}

interface CloudInstanceOptions {
  instanceId?: string;
  clock: Clock;
  logger: Logger;
  intervalScale: number;
  portOverride?: (addr: string, port: number) => number;
  state?: { file: string; mustExist?: boolean };
  onHealthChange(change: CloudHealthChange): void;
}

export interface CloudGtmInstance {
  store: CloudGtmStore;
  actions: Record<string, BoundAction>;
  zone: DnsZone;
  persist(): void;
  view(): CloudGtmEmulatorState;
  startProbes(): void;
  stop(): void;
}

const LANGUAGES = ['zh-CN', 'en-US'] as const;
/** What varies between two sends of the same request: left out when comparing a retry with the first send. */
const PER_SEND = ['Signature', 'SignatureNonce', 'Timestamp'];
const MAX_TOKENS = 10_000;

/**
 * ClientToken idempotence of the write actions: a request sent again with the same token answers
 * what the first one did without doing it twice (a create retried after a lost answer creates one
 * object); the same token with other parameters is refused with `IdempotentParameterMismatch`.
 * Only answered requests are remembered (a refused one may be retried with its token), in memory,
 * the newest 10,000 (emulator choice; the models document the token, not how long it is kept).
 */
class ClientTokens {
  private readonly seen = new Map<string, { fingerprint: string; result: Record<string, unknown> }>();

  once(params: ParamReader, run: () => Record<string, unknown>): Record<string, unknown> {
    const token = params.optionalString('ClientToken');
    if (token === undefined) return run();
    if (token.length > 64 || !/^[\x20-\x7e]+$/.test(token)) throw apiErrors.invalidParameter('ClientToken', 'at most 64 ASCII characters.');
    const fingerprint = params.fingerprint(PER_SEND);
    const earlier = this.seen.get(token);
    if (earlier) {
      if (earlier.fingerprint !== fingerprint)
        throw new GtmApiError('IdempotentParameterMismatch', 400, `ClientToken "${token}" was used before for a different request.`);
      return structuredClone(earlier.result);
    }
    const result = run();
    this.seen.set(token, { fingerprint, result: structuredClone(result) });
    if (this.seen.size > MAX_TOKENS) this.seen.delete(this.seen.keys().next().value as string);
    return result;
  }
}

export function createCloudGtmInstance(options: CloudInstanceOptions): CloudGtmInstance {
  const { clock } = options;
  const saved = options.state ? readCloudGtmState(options.state.file, { mustExist: options.state.mustExist ?? false }) : undefined;
  if (saved && options.instanceId !== undefined && saved.instanceId !== options.instanceId)
    throw new Error(`gtm emulator: ${options.state?.file} holds instance ${saved.instanceId}, not ${options.instanceId}`);
  const store = new CloudGtmStore(saved?.instanceId ?? options.instanceId ?? 'gtm-cn-local3', saved?.createdAt ?? clock.now());
  if (saved) restoreCloudInto(store, saved);
  const stateFile = options.state?.file;
  const persist = stateFile ? () => writeCloudGtmState(stateFile, cloudSnapshotOf(store)) : () => undefined;
  const prober = new CloudHealthProber({
    store,
    clock,
    logger: options.logger,
    intervalScale: options.intervalScale,
    ...(options.portOverride ? { portOverride: options.portOverride } : {}),
    onChange: (change) => {
      persist();
      options.onHealthChange(change);
    },
  });
  const tokens = new ClientTokens();
  const actions = Object.fromEntries(
    Object.entries(cloudGtmActions).map(([name, handler]): [string, BoundAction] => [
      name,
      (params, now) => {
        params.optionalEnum('AcceptLanguage', LANGUAGES);
        const run = () => handler({ params, store, now, probesChanged: () => prober.sync() });
        return /^(Describe|List)/.test(name) ? run() : tokens.once(params, run);
      },
    ]),
  );
  const zone: DnsZone = {
    servedNames: () => store.servedNames(),
    resolve: (name, input) => resolveCloudGtm(store, name, input),
  };
  const view = (): CloudGtmEmulatorState => ({
    instanceId: store.instanceId,
    templates: [...store.templates.values()].map((t) => ({
      id: t.id,
      name: t.name,
      protocol: t.protocol,
      interval: t.interval,
      evaluationCount: t.evaluationCount,
      timeout: t.timeout,
      probeIntervalMs: prober.intervalMs(t),
    })),
    addresses: [...store.addresses.values()].map((a) => ({
      id: a.id,
      name: a.name,
      address: a.address,
      type: a.type,
      enableStatus: a.enableStatus,
      availableMode: a.availableMode,
      healthStatus: store.addressHealth(a),
      available: store.addressAvailable(a),
      tasks: a.healthTasks.map((task) => {
        const health = store.health.get(taskKey(a.id, task));
        return {
          templateId: task.templateId,
          ...(task.port === undefined ? {} : { port: task.port }),
          healthy: health?.healthy ?? true,
          consecutiveFailures: health?.consecutiveFailures ?? 0,
          ...(health?.lastCheckedAt === undefined ? {} : { lastCheckedAt: health.lastCheckedAt }),
          ...(health?.lastResult === undefined ? {} : { lastResult: health.lastResult }),
        };
      }),
    })),
    pools: [...store.pools.values()].map((p) => ({
      id: p.id,
      name: p.name,
      type: p.type,
      lbStrategy: p.lbStrategy,
      healthStatus: store.poolHealth(p),
      available: store.poolAvailable(p),
      addressIds: p.addresses.map((ref) => ref.id),
    })),
    configs: [...store.configs.values()].map((c) => {
      const queryType = c.rrType === 'AAAA' ? 'AAAA' : 'A';
      const resolution = resolveCloudGtm(store, domainOf(c), { queryType, rotation: 0, random: () => 0 });
      return {
        id: c.id,
        domain: domainOf(c),
        rrType: c.rrType,
        ttl: c.ttl,
        lbStrategy: c.lbStrategy,
        sequenceMode: c.sequenceMode,
        poolIds: c.pools.map((ref) => ref.id),
        healthStatus: store.configHealth(c),
        answer: resolution.records.map((r) => r.data),
        answerPools: resolution.pools,
        failedOpen: resolution.failedOpen,
      };
    }),
  });
  return {
    store,
    actions,
    zone,
    persist,
    view,
    startProbes: () => prober.sync(),
    stop: () => prober.stop(),
  };
}
