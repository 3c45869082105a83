import { promises as dnsPromises } from 'node:dns';
import { request } from 'node:http';
import { TricenterError, errorMessage } from '#shared/platform/errors.ts';
import type { AppRef } from '#shared/delivery/model/ownership.ts';
import { clusterOfRemark, ownedStrategyName, type GtmPoolRef } from '#shared/traffic/domain/gtm.ts';
import type { Gtm } from '#shared/traffic/ports/gtm.port.ts';
import type { Gtm3 } from '#shared/traffic/ports/gtm3.port.ts';
import { ownedAppRemark } from '#shared/traffic/domain/gtm3.ts';
import { AlidnsGtm } from '#shared/traffic/adapters/aliyun/alidns-gtm.ts';
import { AlidnsCloudGtm } from '#shared/traffic/adapters/aliyun/alidns-cloudgtm.ts';
import type { SandboxFault } from '#sandbox/control.ts';
import type { LocalEndpoints } from './twin.ts';

/**
 * The disaster-recovery drill of the seed (fixture README, step 4) on the local twin: every
 * request resolves the domain through the GTM emulator's DNS and goes to the first address
 * answered, as a browser would; who answered and what configuration it served is counted. Then
 * the primary clusters fail one after another (data plane down), each time waiting until DNS stops
 * answering with the failed addresses, and finally heal. Each measured switch is set beside its
 * bound: health-check interval x evaluation count + TTL.
 *
 * Resolution: every request sends a fresh query to the emulator (a new resolver each time, so no
 * stub cache holds an answer). That is a client whose cached answer has just expired: in the cloud
 * a resolver may serve an old answer for up to TTL seconds more, which is the bound's TTL term;
 * here nothing caches, so the local bound's TTL term is 0 and the TTL is only reported.
 */

interface DrillTarget {
  cluster: string;
  address: string;
}

export interface DrillBoundInput {
  /** Health-check interval as configured in GTM, seconds. */
  intervalS: number;
  evaluationCount: number;
  /** The instance TTL, seconds. */
  ttlS: number;
  /** The emulator multiplies every interval by this (1 = real time). */
  probeIntervalScale: number;
}

interface DrillBound {
  /** interval x scale x evaluationCount (+ 0 for the TTL: no resolver cache locally), ms. */
  localMs: number;
  /** What the same configuration allows in the cloud: interval x evaluationCount + TTL, seconds. */
  cloudS: number;
  scaledIntervalMs: number;
  evaluationCount: number;
  ttlS: number;
  probeIntervalScale: number;
}

export interface DrillOptions {
  app: AppRef;
  domain: string;
  dns: { host: string; port: number };
  /** Where every cluster's data plane listens (the twin uses one port on every cluster address). */
  dataPlanePort: number;
  /** Requests per phase (default 50). */
  requests?: number;
  setFault(cluster: string, fault: SandboxFault): Promise<void>;
  /** The primary pool's clusters (failed in this order) and the failover pool's, with their addresses in GTM. */
  clusters: { primary: DrillTarget[]; failover: DrillTarget[] };
  bound: DrillBoundInput;
  /** The served file shown as "the config" (matched by name at the end of the path; default config.json). */
  configFile?: string;
  /** Longest wait for one switch (default 5 x the local bound, at least 10 s). */
  waitTimeoutMs?: number;
  /** How often DNS is asked while waiting (default interval/20, between 5 and 100 ms). */
  pollIntervalMs?: number;
  now?: () => number;
  /** One line per step, for live narration. */
  onProgress?: (line: string) => void;
}

interface ClusterTally {
  count: number;
  /** Distinct ENV_NAME values served. */
  envNames: string[];
  /** Distinct contents of the config file served. */
  configs: string[];
}

export interface DrillPhase {
  name: 'all-healthy' | 'primary-failing' | 'primary-down' | 'healed';
  title: string;
  /** The clusters whose data plane is down during this phase. */
  failed: string[];
  /** Who should answer: the addresses DNS should return. */
  expectedClusters: string[];
  /** The switch that led into this phase (absent for the first). */
  transition?: { kind: 'failover' | 'recovery'; measuredMs: number; boundMs: number; ratio: number };
  requests: number;
  answeredBy: Record<string, ClusterTally>;
  errors: Array<{ address?: string; error: string }>;
  /** Every answer came from an expected cluster and no request failed. */
  ok: boolean;
}

export interface DrillReport {
  app: AppRef;
  domain: string;
  dns: string;
  startedAt: number;
  finishedAt: number;
  bound: DrillBound;
  phases: DrillPhase[];
  /** Every phase answered as expected (who served, no failed request). */
  ok: boolean;
  /** Every failover's measured time / bound <= FAILOVER_GOAL_RATIO (a speed goal, kept apart from correctness). */
  failoverWithinGoal: boolean;
  notes: string[];
}

function drillBound(input: DrillBoundInput): DrillBound {
  const scaledIntervalMs = input.intervalS * 1000 * input.probeIntervalScale;
  return {
    localMs: scaledIntervalMs * input.evaluationCount,
    cloudS: input.intervalS * input.evaluationCount + input.ttlS,
    scaledIntervalMs,
    evaluationCount: input.evaluationCount,
    ttlS: input.ttlS,
    probeIntervalScale: input.probeIntervalScale,
  };
}

async function runDrill(options: DrillOptions): Promise<DrillReport> {
  const now = options.now ?? Date.now;
  const progress = options.onProgress ?? (() => {});
  const { primary, failover } = options.clusters;
  if (primary.length === 0) throw new TricenterError('VALIDATION', `drill of ${options.domain}: the primary pool has no address`);
  if (failover.length === 0)
    throw new TricenterError('VALIDATION', `drill of ${options.domain}: there is no failover pool to fail over to`);
  const bound = drillBound(options.bound);
  const requests = options.requests ?? 50;
  const waitTimeoutMs = options.waitTimeoutMs ?? Math.max(10_000, 5 * bound.localMs);
  const pollMs = options.pollIntervalMs ?? Math.min(100, Math.max(5, bound.scaledIntervalMs / 20));
  const addressOf = new Map([...primary, ...failover].map((t) => [t.address, t.cluster]));
  const probe: Probe = {
    domain: options.domain,
    dns: options.dns,
    port: options.dataPlanePort,
    configFile: options.configFile ?? 'config.json',
    addressOf,
  };
  const startedAt = now();
  const phases: DrillPhase[] = [];
  const failed: DrillTarget[] = [];

  const measurePhase = async (
    name: DrillPhase['name'],
    title: string,
    expected: DrillTarget[],
    transition?: DrillPhase['transition'],
  ): Promise<void> => {
    progress(`${title}: ${requests} requests to ${options.domain}`);
    const phase = await sendRequests(probe, requests, expected);
    phases.push({ name, title, failed: failed.map((t) => t.cluster), ...(transition ? { transition } : {}), ...phase });
    progress(`  ${formatTallies(phase.answeredBy)}${phase.errors.length ? `; ${phase.errors.length} failed` : ''}`);
  };
  const switchTo = async (kind: 'failover' | 'recovery', expected: DrillTarget[], faultAt: number): Promise<DrillPhase['transition']> => {
    const want = expected.map((t) => t.address).sort();
    const answeredAt = await waitForAnswer(options, want, faultAt + waitTimeoutMs, pollMs, now);
    const measuredMs = answeredAt - faultAt;
    progress(`  DNS switched to ${expected.map((t) => t.cluster).join(' + ')} after ${measuredMs} ms (bound ${bound.localMs} ms)`);
    return { kind, measuredMs, boundMs: bound.localMs, ratio: round(measuredMs / bound.localMs) };
  };

  try {
    progress(`waiting until DNS answers ${options.domain} with the primary pool`);
    await waitForAnswer(options, primary.map((t) => t.address).sort(), now() + waitTimeoutMs, pollMs, now);
    await measurePhase('all-healthy', 'all healthy', primary);

    for (const target of primary) {
      const faultAt = now();
      await options.setFault(target.cluster, 'data-plane-down');
      failed.push(target);
      const remaining = primary.filter((t) => !failed.includes(t));
      const expected = remaining.length > 0 ? remaining : failover;
      progress(`${target.cluster} fails (data plane down); waiting for the health checks`);
      const transition = await switchTo('failover', expected, faultAt);
      await measurePhase(
        remaining.length > 0 ? 'primary-failing' : 'primary-down',
        `${failed.map((t) => t.cluster).join(' and ')} down`,
        expected,
        transition,
      );
    }

    const healAt = now();
    await healAll(options, failed);
    progress(`${failed.map((t) => t.cluster).join(' and ')} healed; waiting for traffic to return`);
    const healedFrom = failed.splice(0);
    const transition = await switchTo('recovery', primary, healAt);
    await measurePhase('healed', `healed (${healedFrom.map((t) => t.cluster).join(', ')})`, primary, transition);
  } finally {
    await healAll(options, failed);
  }

  return {
    app: options.app,
    domain: options.domain,
    dns: `${options.dns.host}:${options.dns.port}`,
    startedAt,
    finishedAt: now(),
    bound,
    phases,
    ok: phases.every((p) => p.ok),
    failoverWithinGoal: phases.every((p) => p.transition?.kind !== 'failover' || p.transition.ratio <= FAILOVER_GOAL_RATIO),
    notes: [
      `health-check intervals are scaled by ${bound.probeIntervalScale} locally: ${options.bound.intervalS} s becomes ${bound.scaledIntervalMs} ms`,
      `local bound = scaled interval x evaluation count (${bound.scaledIntervalMs} ms x ${bound.evaluationCount}); the TTL term (${bound.ttlS} s) is 0 here because every request asks the emulator afresh (no resolver cache); in the cloud the bound is ${bound.cloudS} s`,
      `goal: measured failover / bound <= ${FAILOVER_GOAL_RATIO}`,
    ],
  };
}

export const FAILOVER_GOAL_RATIO = 1.2;

interface Probe {
  domain: string;
  dns: { host: string; port: number };
  port: number;
  configFile: string;
  addressOf: Map<string, string>;
}

async function healAll(options: DrillOptions, targets: DrillTarget[]): Promise<void> {
  for (const target of targets) await options.setFault(target.cluster, 'none');
}

/** A fresh resolver per query: c-ares may cache answers, and the drill must see every change at once. */
export async function resolveOnce(dns: { host: string; port: number }, domain: string): Promise<string[]> {
  const resolver = new dnsPromises.Resolver({ timeout: 1000, tries: 2 });
  resolver.setServers([`${dns.host}:${dns.port}`]);
  return resolver.resolve4(domain);
}

/** Polls DNS until the answer is exactly `want` (as a set); returns when that answer arrived. */
async function waitForAnswer(options: DrillOptions, want: string[], deadline: number, pollMs: number, now: () => number): Promise<number> {
  let last: string[] | string = 'no answer yet';
  while (now() < deadline) {
    try {
      const answer = (await resolveOnce(options.dns, options.domain)).sort();
      const at = now();
      if (answer.length === want.length && answer.every((a, i) => a === want[i])) return at;
      last = answer;
    } catch (err) {
      last = errorMessage(err);
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  throw new TricenterError(
    'TIMEOUT',
    `drill: DNS for ${options.domain} at ${options.dns.host}:${options.dns.port} never answered ${JSON.stringify(want)} within the wait; last answer: ${JSON.stringify(last)}`,
  );
}

async function sendRequests(
  probe: Probe,
  count: number,
  expected: DrillTarget[],
): Promise<Pick<DrillPhase, 'expectedClusters' | 'requests' | 'answeredBy' | 'errors' | 'ok'>> {
  const answeredBy: Record<string, ClusterTally> = {};
  const errors: DrillPhase['errors'] = [];
  for (let i = 0; i < count; i++) {
    let address: string | undefined;
    try {
      address = (await resolveOnce(probe.dns, probe.domain))[0];
      if (address === undefined) throw new Error('DNS answered no address');
      const pod = await askPod(address, probe);
      const tally = answeredBy[pod.cluster] ?? { count: 0, envNames: [], configs: [] };
      answeredBy[pod.cluster] = tally;
      tally.count++;
      if (pod.envName !== undefined && !tally.envNames.includes(pod.envName)) tally.envNames.push(pod.envName);
      if (pod.config !== undefined && !tally.configs.includes(pod.config)) tally.configs.push(pod.config);
    } catch (err) {
      errors.push({ ...(address ? { address } : {}), error: errorMessage(err) });
    }
  }
  const expectedClusters = expected.map((t) => t.cluster);
  const ok = errors.length === 0 && Object.keys(answeredBy).every((cluster) => expectedClusters.includes(cluster));
  return { expectedClusters, requests: count, answeredBy, errors, ok };
}

interface PodAnswer {
  cluster: string;
  envName?: string;
  config?: string;
}

/** One request as the browser sends it: to the answered address, with the domain as Host, asking for JSON. */
function askPod(address: string, probe: Probe): Promise<PodAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: address,
        port: probe.port,
        path: '/',
        agent: false,
        timeout: 3000,
        headers: { host: probe.domain, accept: 'application/json' },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          if (res.statusCode !== 200)
            return reject(new Error(`${address} (${probe.addressOf.get(address) ?? 'unknown cluster'}) answered ${res.statusCode ?? 0}`));
          try {
            const pod = JSON.parse(body) as { cluster?: unknown; env?: Record<string, string>; files?: Record<string, string> };
            const config = Object.entries(pod.files ?? {}).find(
              ([path]) => path === probe.configFile || path.endsWith(`/${probe.configFile}`),
            )?.[1];
            resolve({
              cluster: typeof pod.cluster === 'string' ? pod.cluster : (probe.addressOf.get(address) ?? address),
              ...(pod.env?.ENV_NAME !== undefined ? { envName: pod.env.ENV_NAME } : {}),
              ...(config !== undefined ? { config } : {}),
            });
          } catch (err) {
            reject(new Error(`${address} answered something other than JSON: ${errorMessage(err)}`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${address} did not answer within 3000 ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * What the drill needs from GTM itself (the reconciler's result, not the policy): the domain,
 * the application's strategy with its primary and failover pools, each address's cluster (from
 * the remark the reconciler writes), the primary pool's health check and the TTL.
 */
export async function readDrillSetup(
  gtm: Gtm,
  app: AppRef,
): Promise<{ domain: string; clusters: DrillOptions['clusters']; bound: Omit<DrillBoundInput, 'probeIntervalScale'> }> {
  const strategyName = ownedStrategyName(app);
  const summary = (await gtm.listStrategies()).find((s) => s.name === strategyName);
  if (!summary)
    throw new TricenterError(
      'NOT_FOUND',
      `GTM has no access strategy "${strategyName}": has the traffic of ${app.namespace}/${app.name} been reconciled yet?`,
    );
  const [strategy, global] = await Promise.all([gtm.getStrategy(summary.id), gtm.getGlobalConfig()]);
  if (!global.userDomainName) throw new TricenterError('NOT_FOUND', 'GTM instance has no domain configured (PublicUserDomainName)');
  const targetsOf = async (refs: GtmPoolRef[]) => {
    const pools = await Promise.all(refs.map((ref) => gtm.getPool(ref.poolId)));
    return {
      pools,
      targets: pools.flatMap((pool) => pool.addresses.map((a) => ({ cluster: clusterOfRemark(app, a.remark) ?? a.addr, address: a.addr }))),
    };
  };
  const [primary, failover] = await Promise.all([targetsOf(strategy.primary), targetsOf(strategy.failover)]);
  const monitorId = primary.pools.find((p) => p.monitorConfigId)?.monitorConfigId;
  if (!monitorId)
    throw new TricenterError('NOT_FOUND', `the primary pool of "${strategyName}" has no health check, so nothing would fail over`);
  const monitor = await gtm.getMonitor(monitorId);
  return {
    domain: global.userDomainName,
    clusters: { primary: primary.targets, failover: failover.targets },
    bound: { intervalS: monitor.interval, evaluationCount: monitor.evaluationCount, ttlS: global.ttl },
  };
}

/**
 * The same from a GTM 3.0 instance: the application's instance configuration (its remark names
 * the application) must balance its pools by `sequence`; the pool with the smallest serial number
 * is the primary, the others fail over in order. The bound comes from the health-check template of
 * the primary pool's first address.
 */
export async function readDrillSetup3(
  gtm: Gtm3,
  app: AppRef,
): Promise<{ domain: string; clusters: DrillOptions['clusters']; bound: Omit<DrillBoundInput, 'probeIntervalScale'> }> {
  const remark = ownedAppRemark(app);
  const [configs, pools, addresses, templates] = await Promise.all([
    gtm.listInstanceConfigs(),
    gtm.listPools(),
    gtm.listAddresses(),
    gtm.listMonitorTemplates(),
  ]);
  const config = configs.find((c) => c.remark === remark && c.rrType === 'A') ?? configs.find((c) => c.remark === remark);
  if (!config)
    throw new TricenterError(
      'NOT_FOUND',
      `GTM 3.0 instance ${gtm.instanceId} has no instance configuration with remark "${remark}": has the traffic of ${app.namespace}/${app.name} been reconciled yet?`,
    );
  if (config.lbStrategy !== 'sequence')
    throw new TricenterError(
      'VALIDATION',
      `the instance configuration of ${config.domain} balances its pools by ${config.lbStrategy}: the drill needs sequence (a primary pool, then failover)`,
    );
  const addressById = new Map(addresses.map((a) => [a.id, a]));
  const poolById = new Map(pools.map((p) => [p.id, p]));
  const ordered = [...config.pools].sort((a, b) => a.serialNumber - b.serialNumber).flatMap((ref) => poolById.get(ref.poolId) ?? []);
  const targetsOf = (pool: (typeof pools)[number]) =>
    [...pool.members]
      .sort((a, b) => a.serialNumber - b.serialNumber)
      .map((m) => ({ cluster: clusterOfRemark(app, m.remark) ?? m.address, address: m.address }));
  const [primaryPool, ...failoverPools] = ordered;
  if (!primaryPool) throw new TricenterError('NOT_FOUND', `the instance configuration of ${config.domain} references no address pool`);
  const templateId = primaryPool.members.flatMap((m) => addressById.get(m.addressId)?.healthTasks ?? [])[0]?.templateId;
  const template = templates.find((t) => t.id === templateId);
  if (!template)
    throw new TricenterError('NOT_FOUND', `the primary pool of ${config.domain} has no health check, so nothing would fail over`);
  return {
    domain: config.domain,
    clusters: { primary: targetsOf(primaryPool), failover: failoverPools.flatMap(targetsOf) },
    bound: { intervalS: template.interval, evaluationCount: template.evaluationCount, ttlS: config.ttl },
  };
}

export interface TwinDrillOptions {
  app: AppRef;
  requests?: number;
  /** Default: the sandbox's control API named in the endpoints (what a separate process can reach). */
  setFault?: DrillOptions['setFault'];
  onProgress?: DrillOptions['onProgress'];
  waitTimeoutMs?: number;
}

/**
 * The drill against a running local twin, from its `.tricenter/endpoints.json` alone: the setup
 * is read from the emulator through the GTM API, primary clusters fail in registry order.
 */
export async function runDrillOnTwin(endpoints: LocalEndpoints, options: TwinDrillOptions): Promise<DrillReport> {
  const { gtm: gtmEndpoints } = endpoints;
  const adapterOptions = {
    endpoint: gtmEndpoints.endpoint,
    instanceId: gtmEndpoints.instanceId,
    credentials: { accessKeyId: gtmEndpoints.accessKeyId, accessKeySecret: gtmEndpoints.accessKeySecret },
    timeoutMs: 5000,
  };
  // An endpoints file written before GTM 3.0 existed names no version: its emulator was 2.0.
  const setup =
    (gtmEndpoints.gtmVersion ?? '2.0') === '3.0'
      ? await readDrillSetup3(new AlidnsCloudGtm(adapterOptions), options.app)
      : await readDrillSetup(new AlidnsGtm(adapterOptions), options.app);
  const order = endpoints.clusters.map((c) => c.name);
  const rank = (t: DrillTarget) => (order.includes(t.cluster) ? order.indexOf(t.cluster) : order.length);
  const dataPlanePort = Number(new URL(endpoints.clusters[0]?.dataPlaneUrl ?? 'http://127.0.0.1:80').port || 80);
  return runDrill({
    app: options.app,
    domain: setup.domain,
    dns: gtmEndpoints.dns,
    dataPlanePort,
    setFault: options.setFault ?? controlApiFault(endpoints.sandboxControlUrl),
    clusters: { primary: [...setup.clusters.primary].sort((a, b) => rank(a) - rank(b)), failover: setup.clusters.failover },
    bound: { ...setup.bound, probeIntervalScale: gtmEndpoints.probeIntervalScale },
    ...(options.requests === undefined ? {} : { requests: options.requests }),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.waitTimeoutMs === undefined ? {} : { waitTimeoutMs: options.waitTimeoutMs }),
  });
}

/** Sets a fault through the sandbox's control API (POST /clusters/{name}/fault). */
export function controlApiFault(controlUrl: string | undefined): DrillOptions['setFault'] {
  return async (cluster, fault) => {
    if (!controlUrl)
      throw new TricenterError(
        'VALIDATION',
        'the drill fails clusters through the sandbox: this twin runs against real clusters (no sandbox control API)',
      );
    const url = `${controlUrl}/clusters/${encodeURIComponent(cluster)}/fault`;
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ fault }),
        signal: AbortSignal.timeout(5000),
      });
    } catch (err) {
      throw new TricenterError('UNREACHABLE', `cannot reach the sandbox control API at ${url}: ${errorMessage(err)}`);
    }
    if (!response.ok)
      throw new TricenterError(
        'INTERNAL',
        `sandbox control API: setting ${cluster} to ${fault} answered ${response.status} ${await response.text()}`,
      );
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

function formatTallies(answeredBy: Record<string, ClusterTally>): string {
  const entries = Object.entries(answeredBy);
  return entries.length === 0 ? 'no answers' : entries.map(([cluster, t]) => `${cluster} x${t.count}`).join(', ');
}

/** The report for people: one block per phase, then each switch against its bound. */
export function formatDrillReport(report: DrillReport): string {
  const lines = [`Disaster-recovery drill of ${report.app.namespace}/${report.app.name} (${report.domain} via DNS ${report.dns})`];
  for (const phase of report.phases) {
    lines.push(
      '',
      `${phase.ok ? 'ok  ' : 'FAIL'} ${phase.title}: ${phase.requests} requests, expected ${phase.expectedClusters.join(' + ')}`,
    );
    if (phase.transition) {
      const t = phase.transition;
      lines.push(
        `     ${t.kind} took ${t.measuredMs} ms; bound ${t.boundMs} ms; ratio ${t.ratio}${t.kind === 'failover' ? ` (goal <= ${FAILOVER_GOAL_RATIO})` : ''}`,
      );
    }
    for (const [cluster, tally] of Object.entries(phase.answeredBy)) {
      lines.push(`     ${cluster.padEnd(20)} ${String(tally.count).padStart(4)}  ENV_NAME=${tally.envNames.join(',') || '-'}`);
      for (const config of tally.configs) lines.push(`       config: ${config.trim().replace(/\s*\n\s*/g, ' | ')}`);
    }
    for (const error of phase.errors.slice(0, 5)) lines.push(`     error: ${error.error}`);
    if (phase.errors.length > 5) lines.push(`     ... ${phase.errors.length - 5} more errors`);
  }
  const speed = report.failoverWithinGoal
    ? `every failover within ${FAILOVER_GOAL_RATIO} x its bound`
    : `a failover took more than ${FAILOVER_GOAL_RATIO} x its bound`;
  lines.push(
    '',
    `Result: ${report.ok ? 'passed' : 'FAILED'}; ${speed}; ${Math.round((report.finishedAt - report.startedAt) / 100) / 10} s in all`,
  );
  for (const note of report.notes) lines.push(`  note: ${note}`);
  return lines.join('\n');
}
