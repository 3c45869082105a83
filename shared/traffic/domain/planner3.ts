import type { ClusterRegistry } from '../../delivery/model/clusters.ts';
import type { AppRef } from '../../delivery/model/ownership.ts';
import { GTM3_PROBE_TIMEOUTS } from '../../delivery/model/gtm3-limits.ts';
import type { TrafficPolicy } from '../../delivery/model/traffic-policy.ts';
import {
  type AddressFamily,
  candidateAddresses,
  DEFAULT_REMOVE_AFTER,
  type DesiredAddress,
  nextAddresses,
  normalizeAddress,
  poolType,
} from './desired.ts';
import { clusterOfRemark, ownedPoolName } from './gtm.ts';
import {
  type Gtm3Address,
  type Gtm3AddressType,
  type Gtm3HealthJudgement,
  type Gtm3InstanceConfig,
  type Gtm3LbStrategy,
  type Gtm3MonitorTemplate,
  type Gtm3MonitorTemplateInput,
  type Gtm3Pool,
  type Gtm3RrType,
  ownedAddressName,
  ownedAppRemark,
  ownedTemplateName,
  splitDomain,
} from './gtm3.ts';
import { resolvePools } from './resolve.ts';
import type {
  ClusterObservation,
  DesiredPool,
  Gtm3Change,
  Gtm3MemberPlan,
  Gtm3State,
  Gtm3TaskPlan,
  TrafficHistory,
  Traffic3Plan,
  TrafficWarning,
} from './types.ts';

export interface PlanTraffic3Input {
  policy: TrafficPolicy;
  registry: ClusterRegistry;
  /** Per registry cluster name; a cluster missing here counts as unknown, like 'unreachable'. */
  observations: Record<string, ClusterObservation>;
  history: TrafficHistory | undefined;
  state: Gtm3State;
  now: number;
  /** Consecutive absent observations before an address leaves its pool (default 3). */
  removeAfter?: number;
}

/** Probe points of the health-check templates: two BGP nodes (as the 2.0 adapter's monitors). */
const MONITOR_NODES = [
  { cityCode: '503', ispCode: '465' },
  { cityCode: '357', ispCode: '465' },
];
/** A target is unhealthy when more than this percentage of the probe points fail. */
const FAILURE_RATE = 50;

const TYPE_OF: Record<AddressFamily, Gtm3AddressType> = { IPV4: 'IPv4', IPV6: 'IPv6', DOMAIN: 'domain' };
const FAMILY_OF: Record<Gtm3AddressType, AddressFamily> = { IPv4: 'IPV4', IPv6: 'IPV6', domain: 'DOMAIN' };
const RR_TYPE_OF: Record<AddressFamily, Gtm3RrType> = { IPV4: 'A', IPV6: 'AAAA', DOMAIN: 'CNAME' };
const ipVersionOf = (family: AddressFamily): 'IPv4' | 'IPv6' => (family === 'IPV6' ? 'IPv6' : 'IPv4');

interface PoolOutcome {
  usable: boolean;
  blocked: boolean;
  family: AddressFamily;
  poolId?: string;
}

/**
 * The pure GTM 3.0 planner: the same desired addresses per pool as 2.0 (desired.ts: unknown is not
 * empty, debounced removal, never an empty pool), diffed against GTM 3.0's objects: one address
 * object per pool and address (health task from our monitor template), the pools referencing them
 * (round_robin, or weight for a RATIO pool), and one instance config for the domain referencing
 * the primary pool then the failover with the sequence strategy, preemptive (traffic returns to
 * the primary once it is healthy again). Only objects we own are written or deleted; an address
 * that leaves is taken out of its pool before it is deleted; equal state plans nothing.
 */
export function planTraffic3(input: PlanTraffic3Input): Traffic3Plan {
  const { policy, state } = input;
  const app: AppRef = { namespace: policy.metadata.namespace, name: policy.metadata.name };
  const removeAfter = input.removeAfter ?? DEFAULT_REMOVE_AFTER;
  const resolved = resolvePools(policy, input.registry);
  const warnings: TrafficWarning[] = [];
  const history: TrafficHistory = { pools: {}, observedAt: input.now };
  const desired: DesiredPool[] = [];
  const outcomes = new Map<string, PoolOutcome>();

  const templateChanges: Gtm3Change[] = [];
  const addressChanges: Gtm3Change[] = [];
  const poolChanges: Gtm3Change[] = [];
  const memberChanges: Gtm3Change[] = [];
  const deletions: Gtm3Change[] = [];
  const templates = new Map<'IPv4' | 'IPv6', Gtm3TaskPlan | undefined>();
  const templateFor = (family: AddressFamily): Gtm3TaskPlan | undefined => {
    const ipVersion = ipVersionOf(family);
    if (!templates.has(ipVersion))
      templates.set(ipVersion, planTemplate(app, policy, ipVersion, state.templates, templateChanges, warnings));
    return templates.get(ipVersion);
  };

  for (const entry of resolved) {
    const name = entry.pool.name;
    const gtmName = ownedPoolName(app, name);
    const ours = ownAddresses(app, gtmName, state.addresses);
    const status = poolStatus(app, gtmName, name, state.pools, ours, warnings);
    const current = status.kind === 'owned' ? status.pool : undefined;
    const family = current ? FAMILY_OF[current.type] : poolType(candidateAddresses(entry, input), name, warnings);
    const inPool = (current?.members ?? []).map((m) => ({
      addr: normalizeAddress(ours.byId.get(m.addressId)?.address ?? m.address),
      remark: ours.byId.get(m.addressId)?.remark ?? m.remark,
    }));
    const next = nextAddresses(entry, input, current ? { addresses: inPool } : undefined, family, app, removeAfter, warnings);
    history.pools[name] = Object.fromEntries(next.history);
    if (status.kind === 'blocked') {
      outcomes.set(name, { usable: false, blocked: true, family });
      continue;
    }
    desired.push({
      pool: name,
      gtmName,
      addresses: next.addresses.map((a) => ({
        addr: a.addr,
        cluster: next.history.get(a.addr)?.cluster ?? '',
        absent: next.history.get(a.addr)?.absent ?? 0,
        mode: a.mode,
      })),
    });
    if (!current) {
      if (status.kind === 'absent' && Object.keys(input.history?.pools[name] ?? {}).length > 0) {
        warnings.push({
          code: 'DRIFT',
          pool: name,
          message: `pool ${gtmName} is gone from GTM although the last reconcile kept it: changed outside tricenter; it is re-created`,
        });
      }
      if (next.addresses.length === 0) {
        warnings.push({
          code: 'NO_ADDRESS_YET',
          pool: name,
          message: `pool ${name} has no address yet; it is created once a cluster reports one`,
        });
        outcomes.set(name, { usable: false, blocked: false, family });
        continue;
      }
    }

    const task = templateFor(family);
    const members: Gtm3MemberPlan[] = [];
    for (const want of next.addresses) {
      const have = ours.byAddr.get(want.addr);
      members.push({ addr: want.addr, ...(have ? { addressId: have.id } : {}), serialNumber: 1, weight: want.weight });
      planAddress(app, name, family, want, have, task, addressChanges);
    }

    const strategy: Gtm3LbStrategy = entry.pool.lbaStrategy === 'RATIO' ? 'weight' : 'round_robin';
    const judgement = poolJudgement(policy, name, next.addresses.length);
    if (!current) {
      poolChanges.push({
        kind: 'create-pool',
        pool: name,
        input: { name: gtmName, type: TYPE_OF[family], remark: ownedAppRemark(app), healthJudgement: judgement },
      });
      if (strategy !== 'round_robin') poolChanges.push({ kind: 'set-pool-strategy', pool: name, strategy });
      memberChanges.push({ kind: 'replace-pool-addresses', pool: name, members, added: members.map((m) => m.addr), removed: [] });
      outcomes.set(name, { usable: true, blocked: false, family });
    } else {
      outcomes.set(name, { usable: true, blocked: false, family, poolId: current.id });
      if (current.healthJudgement !== judgement)
        poolChanges.push({
          kind: 'update-pool-basic',
          pool: name,
          poolId: current.id,
          input: { name: gtmName, healthJudgement: judgement },
        });
      if (current.lbStrategy !== strategy) poolChanges.push({ kind: 'set-pool-strategy', pool: name, poolId: current.id, strategy });
      const before = new Set(inPool.map((a) => a.addr));
      const after = new Set(members.map((m) => m.addr));
      if (!sameMembers(current, members, strategy === 'weight')) {
        memberChanges.push({
          kind: 'replace-pool-addresses',
          pool: name,
          poolId: current.id,
          members,
          added: [...after].filter((a) => !before.has(a)),
          removed: [...before].filter((a) => !after.has(a)),
        });
      }
    }
    // Our addresses of this pool that it should no longer hold: out of the pool first (above), then deleted.
    const keep = new Set(members.map((m) => m.addr));
    for (const address of ours.all) {
      const addr = normalizeAddress(address.address);
      if (!keep.has(addr) || ours.byAddr.get(addr)?.id !== address.id)
        deletions.push({ kind: 'delete-address', pool: name, addr, addressId: address.id });
    }
  }

  const configChanges = planConfig(app, policy, outcomes, state.configs, warnings);
  return {
    changes: [...templateChanges, ...addressChanges, ...sortCreatesFirst(poolChanges), ...memberChanges, ...deletions, ...configChanges],
    history,
    warnings,
    desired,
  };
}

interface OwnAddresses {
  all: Gtm3Address[];
  byId: Map<string, Gtm3Address>;
  /** The first address object per normalized address (a second one is a leftover, deleted). */
  byAddr: Map<string, Gtm3Address>;
}

/** Address objects we made for this pool: our name prefix and our remark. */
function ownAddresses(app: AppRef, gtmName: string, addresses: Gtm3Address[]): OwnAddresses {
  const all = addresses
    .filter((a) => a.name.startsWith(`${gtmName}.`) && clusterOfRemark(app, a.remark) !== undefined)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const byAddr = new Map<string, Gtm3Address>();
  for (const a of all) if (!byAddr.has(normalizeAddress(a.address))) byAddr.set(normalizeAddress(a.address), a);
  return { all, byId: new Map(all.map((a) => [a.id, a])), byAddr };
}

type PoolStatus = { kind: 'absent' } | { kind: 'owned'; pool: Gtm3Pool } | { kind: 'blocked' };

function poolStatus(
  app: AppRef,
  gtmName: string,
  name: string,
  pools: Gtm3Pool[],
  ours: OwnAddresses,
  warnings: TrafficWarning[],
): PoolStatus {
  const matches = pools.filter((p) => p.name === gtmName);
  if (matches.length === 0) return { kind: 'absent' };
  if (matches.length > 1) {
    warnings.push({
      code: 'AMBIGUOUS',
      pool: name,
      message: `${matches.length} GTM pools are named ${gtmName}; none is written until only one remains`,
    });
    return { kind: 'blocked' };
  }
  const pool = matches[0] as Gtm3Pool;
  if (pool.remark !== ownedAppRemark(app)) {
    warnings.push({
      code: 'FOREIGN_POOL',
      pool: name,
      message: `GTM pool ${gtmName} (${pool.id}) does not carry the remark ${ownedAppRemark(app)}; it is left untouched`,
    });
    return { kind: 'blocked' };
  }
  const strangers = pool.members.filter((m) => !ours.byId.has(m.addressId));
  if (strangers.length > 0) {
    warnings.push({
      code: 'FOREIGN_POOL',
      pool: name,
      message: `GTM pool ${gtmName} (${pool.id}) holds addresses that are not ours (${strangers.map((m) => m.address || m.addressId).join(', ')}); it is left untouched`,
    });
    return { kind: 'blocked' };
  }
  return { kind: 'owned', pool };
}

function planAddress(
  app: AppRef,
  pool: string,
  family: AddressFamily,
  want: DesiredAddress,
  have: Gtm3Address | undefined,
  task: Gtm3TaskPlan | undefined,
  changes: Gtm3Change[],
): void {
  const enableStatus = want.mode === 'OFFLINE' ? 'disable' : 'enable';
  const name = ownedAddressName(app, pool, want.addr);
  const healthTasks = task ? [task] : (have?.healthTasks.map((t) => ({ ...t, ipVersion: ipVersionOf(family) })) ?? []);
  if (!have) {
    changes.push({
      kind: 'create-address',
      pool,
      addr: want.addr,
      input: {
        name,
        address: want.addr,
        type: TYPE_OF[family],
        remark: want.remark,
        enableStatus,
        availableMode: 'auto',
        healthJudgement: 'any_ok',
      },
      healthTasks,
    });
    return;
  }
  const sameTasks =
    have.healthTasks.length === healthTasks.length &&
    healthTasks.every(
      (t) => t.templateId !== undefined && have.healthTasks.some((h) => h.templateId === t.templateId && h.port === t.port),
    );
  if (!sameTasks || have.healthJudgement !== 'any_ok' || have.name !== name) {
    changes.push({
      kind: 'update-address',
      pool,
      addr: want.addr,
      addressId: have.id,
      input: { name, address: want.addr, healthJudgement: 'any_ok' },
      healthTasks,
    });
  }
  if (have.enableStatus !== enableStatus)
    changes.push({ kind: 'set-address-enable', pool, addr: want.addr, addressId: have.id, status: enableStatus });
  if (have.availableMode !== 'auto') changes.push({ kind: 'set-address-auto', pool, addr: want.addr, addressId: have.id });
}

/** The policy's health check as our template for one IP version; undefined when ours is ambiguous (addresses keep their tasks). */
function planTemplate(
  app: AppRef,
  policy: TrafficPolicy,
  ipVersion: 'IPv4' | 'IPv6',
  templates: Gtm3MonitorTemplate[],
  changes: Gtm3Change[],
  warnings: TrafficWarning[],
): Gtm3TaskPlan | undefined {
  const hc = policy.spec.healthCheck;
  const protocol = hc.protocol === 'HTTPS' ? 'https' : 'http';
  const want: Gtm3MonitorTemplateInput = {
    name: ownedTemplateName(app, ipVersion, protocol),
    protocol,
    ipVersion,
    interval: hc.interval,
    // Admission refuses other values for a 3.0 instance; raised to the next accepted one all the same.
    timeout: GTM3_PROBE_TIMEOUTS.find((t) => t >= hc.timeout) ?? 10000,
    evaluationCount: hc.evaluationCount,
    failureRate: FAILURE_RATE,
    host: (hc.host ?? policy.spec.domain).toLowerCase(),
    path: hc.path,
    code: hc.failureCode,
    nodes: MONITOR_NODES,
  };
  const matches = templates.filter((t) => t.name === want.name);
  if (matches.length > 1) {
    warnings.push({
      code: 'AMBIGUOUS',
      message: `${matches.length} health-check templates are named ${want.name}; none is written or used`,
    });
    return undefined;
  }
  const have = matches[0];
  if (!have) {
    changes.push({ kind: 'create-template', ipVersion, input: want });
    return { ipVersion, port: hc.port };
  }
  if (!sameTemplate(have, want) || have.protocol !== want.protocol || have.ipVersion !== want.ipVersion) {
    changes.push({ kind: 'update-template', ipVersion, templateId: have.id, input: want });
  }
  return { ipVersion, templateId: have.id, port: hc.port };
}

function sameTemplate(a: Gtm3MonitorTemplate, b: Gtm3MonitorTemplateInput): boolean {
  const nodes = (list: Gtm3MonitorTemplateInput['nodes']) =>
    list
      .map((n) => `${n.cityCode}/${n.ispCode}`)
      .sort()
      .join(',');
  return (
    a.interval === b.interval &&
    a.timeout === b.timeout &&
    a.evaluationCount === b.evaluationCount &&
    a.failureRate === b.failureRate &&
    a.host.toLowerCase() === b.host.toLowerCase() &&
    a.path === b.path &&
    a.code === b.code &&
    nodes(a.nodes) === nodes(b.nodes)
  );
}

/**
 * The primary pool is healthy while `minAvailable` of its addresses are (GTM 3.0 judges a pool by
 * the share of healthy addresses): 1 is any_ok, otherwise the smallest share that needs at least
 * `minAvailable` of `count`. Other pools: any_ok.
 */
function poolJudgement(policy: TrafficPolicy, pool: string, count: number): Gtm3HealthJudgement {
  const min = policy.spec.access.minAvailable;
  if (pool !== policy.spec.access.primary || min <= 1 || count === 0) return 'any_ok';
  const share = min / count;
  if (share <= 0.3) return 'p30_ok';
  if (share <= 0.5) return 'p50_ok';
  if (share <= 0.7) return 'p70_ok';
  return 'all_ok';
}

function sameMembers(pool: Gtm3Pool, members: Gtm3MemberPlan[], compareWeights: boolean): boolean {
  if (pool.members.length !== members.length) return false;
  const byId = new Map(pool.members.map((m) => [m.addressId, m]));
  return members.every((m) => {
    const have = m.addressId === undefined ? undefined : byId.get(m.addressId);
    return have !== undefined && have.serialNumber === m.serialNumber && (!compareWeights || have.weight === m.weight);
  });
}

function sortCreatesFirst(changes: Gtm3Change[]): Gtm3Change[] {
  return [...changes.filter((c) => c.kind === 'create-pool'), ...changes.filter((c) => c.kind !== 'create-pool')];
}

/** The instance config of the domain: ours by remark; the primary pool first, then the failover, sequence + preemptive. */
function planConfig(
  app: AppRef,
  policy: TrafficPolicy,
  outcomes: Map<string, PoolOutcome>,
  configs: Gtm3InstanceConfig[],
  warnings: TrafficWarning[],
): Gtm3Change[] {
  const { access } = policy.spec;
  const domain = normalizeAddress(policy.spec.domain);
  const primary = outcomes.get(access.primary);
  const failover = access.failover === undefined ? undefined : outcomes.get(access.failover);
  const block = (message: string): Gtm3Change[] => {
    warnings.push({ code: 'STRATEGY_BLOCKED', message });
    return [];
  };
  if (!primary) return block(`the configuration of ${domain} waits for its primary pool ${access.primary}`);
  const rrType = RR_TYPE_OF[primary.family];
  const remark = ownedAppRemark(app);
  const sameType = configs.filter((c) => c.rrType === rrType);
  const foreign = sameType.filter((c) => normalizeAddress(c.domain) === domain && c.remark !== remark);
  if (foreign.length > 0)
    return block(
      `the ${rrType} configuration of ${domain} (${foreign.map((c) => c.id).join(', ')}) does not carry the remark ${remark}; it is left untouched`,
    );
  const ours = sameType.filter((c) => c.remark === remark);
  if (ours.length > 1) return block(`${ours.length} ${rrType} configurations carry the remark ${remark}; none is written`);
  if (!primary.usable) return block(`the configuration of ${domain} waits for its primary pool ${access.primary}`);
  if (failover?.blocked) return block(`the configuration of ${domain} is not written: its failover pool ${access.failover} is not ours`);

  const refs = [
    { pool: access.primary, serialNumber: 1, weight: 1, ...(primary.poolId ? { poolId: primary.poolId } : {}) },
    ...(failover?.usable && access.failover
      ? [{ pool: access.failover, serialNumber: 2, weight: 1, ...(failover.poolId ? { poolId: failover.poolId } : {}) }]
      : []),
  ];
  const { hostname, zone } = splitDomain(domain);
  const ttl = policy.spec.ttl;
  const current = ours[0];
  if (!current) {
    return [
      { kind: 'create-config', input: { hostname, zone, rrType, ttl, remark } },
      { kind: 'replace-config-pools', pools: refs },
      { kind: 'set-config-strategy', strategy: 'sequence', sequenceMode: 'preemptive' },
    ];
  }
  const changes: Gtm3Change[] = [];
  if (normalizeAddress(current.domain) !== domain) {
    warnings.push({
      code: 'DRIFT',
      message: `the GTM configuration ${current.id} answers for ${current.domain}, not ${domain}: changed outside tricenter; the domain is written back`,
    });
  }
  if (normalizeAddress(current.domain) !== domain || current.ttl !== ttl)
    changes.push({ kind: 'update-config-basic', configId: current.id, input: { hostname, zone, ttl } });
  const have = [...current.pools].sort((a, b) => a.serialNumber - b.serialNumber);
  const samePools =
    have.length === refs.length &&
    refs.every((r, i) => r.poolId !== undefined && have[i]?.poolId === r.poolId && have[i]?.serialNumber === r.serialNumber);
  if (!samePools) changes.push({ kind: 'replace-config-pools', configId: current.id, pools: refs });
  if (current.lbStrategy !== 'sequence' || current.sequenceMode !== 'preemptive')
    changes.push({ kind: 'set-config-strategy', configId: current.id, strategy: 'sequence', sequenceMode: 'preemptive' });
  return changes;
}
