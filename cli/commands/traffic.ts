import type { Command } from 'commander';
import type { AlidnsCloudGtm } from '#shared/traffic/adapters/aliyun/alidns-cloudgtm.ts';
import type { AlidnsGtm } from '#shared/traffic/adapters/aliyun/alidns-gtm.ts';
import { NotFoundError, TricenterError, errorMessage } from '#shared/platform/errors.ts';
import { createLogger, silentLogger, type Logger } from '#shared/platform/log.ts';
import type { AppRef } from '#shared/delivery/model/ownership.ts';
import { clusterOfRemark, ownedPoolName, ownedStrategyName } from '#shared/traffic/domain/gtm.ts';
import { ownedAppRemark } from '#shared/traffic/domain/gtm3.ts';
import type { ReconcileTrafficResult } from '#shared/traffic/usecases/reconcile-traffic.ts';
import type { DrillReport } from '#local/drill.ts';
import type { LocalEndpoints } from '#local/twin.ts';
import { DEFAULT_ENDPOINTS_FILE, parseAppRef, readEndpoints } from '../target.ts';
import { terminalSafe, terminalSafeJson, terminalSafeLines } from '../terminal-text.ts';

/**
 * `tricenter traffic plan|apply|status <ns/name>` and `tricenter drill <ns/name>` against the
 * running local twin, found through its endpoints file. plan and apply run the same reconcile
 * use case the gtm-reconcile function runs (plan = dry run), with the twin's store, clusters and
 * GTM emulator; status reads GTM back through its API and asks its DNS. The adapters, the SDK
 * and the drill are imported when a command runs, not for `tricenter --help`.
 */

async function gtmOf(endpoints: LocalEndpoints): Promise<AlidnsGtm> {
  const { AlidnsGtm } = await import('#shared/traffic/adapters/aliyun/alidns-gtm.ts');
  const { endpoint, instanceId, accessKeyId, accessKeySecret } = endpoints.gtm;
  return new AlidnsGtm({ endpoint, instanceId, credentials: { accessKeyId, accessKeySecret }, timeoutMs: 5000 });
}

async function gtm3Of(endpoints: LocalEndpoints): Promise<AlidnsCloudGtm> {
  const { AlidnsCloudGtm } = await import('#shared/traffic/adapters/aliyun/alidns-cloudgtm.ts');
  const { endpoint, instanceId, accessKeyId, accessKeySecret } = endpoints.gtm;
  return new AlidnsCloudGtm({ endpoint, instanceId, credentials: { accessKeyId, accessKeySecret }, timeoutMs: 5000 });
}

/** The twin's GTM speaks 3.0 unless its endpoints file says 2.0 (a file from before versions is 2.0). */
const isGtm3 = (endpoints: LocalEndpoints): boolean => (endpoints.gtm.gtmVersion ?? '2.0') === '3.0';

/** One reconcile of `app` with the twin's adapters; `dryRun` plans and writes nothing. */
export async function reconcileOnTwin(
  endpoints: LocalEndpoints,
  app: AppRef,
  options: { dryRun: boolean; logger?: Logger },
): Promise<ReconcileTrafficResult[]> {
  const [
    { loadBundle },
    { parseClusterRegistry },
    { SqliteRunStore },
    { createClusterConnections },
    { createKubeGateway },
    { currentRelease },
    { reconcileTraffic },
  ] = await Promise.all([
    import('#shared/delivery/bundle/load.ts'),
    import('#shared/delivery/model/bundle.ts'),
    import('#shared/delivery/adapters/local/sqlite-run-store.ts'),
    import('#shared/delivery/adapters/kube/connections.ts'),
    import('#shared/delivery/adapters/kube/gateway.ts'),
    import('#shared/delivery/usecases/releases.ts'),
    import('#shared/traffic/usecases/reconcile-traffic.ts'),
  ]);
  const logger = options.logger ?? silentLogger;
  const registry = parseClusterRegistry(await loadBundle(endpoints.clustersFile));
  const store = new SqliteRunStore({ path: endpoints.store });
  const history = store.trafficHistory;
  const gateway = createKubeGateway({
    connections: createClusterConnections({ clusters: registry.clusters, defaultKubeconfigPath: endpoints.kubeconfig, logger }),
    logger,
    requestTimeoutMs: 3000,
  });
  try {
    const release = await currentRelease(store, app);
    if (!release) throw new NotFoundError(`${app.namespace}/${app.name} has no current run on the local twin (upload its bundle first)`);
    const policies = release.plan.traffic ?? [];
    if (policies.length === 0) throw new NotFoundError(`the current release of ${app.namespace}/${app.name} has no TrafficPolicy`);
    const gtm = isGtm3(endpoints) ? await gtm3Of(endpoints) : await gtmOf(endpoints);
    const results: ReconcileTrafficResult[] = [];
    for (const policy of policies) {
      results.push(
        await reconcileTraffic({ policy, registry, gateway, gtm, claims: store, history, logger, now: Date.now(), dryRun: options.dryRun }),
      );
    }
    return results;
  } finally {
    gateway.close();
    await store.close();
  }
}

export interface TrafficStatus {
  instanceId: string;
  domain?: string;
  ttl: number;
  probeIntervalScale: number;
  strategy?: { name: string; accessMode: string; serving: string; primary: string[]; failover: string[]; minAvailable: number };
  pools: Array<{
    name: string;
    lbaStrategy: string;
    healthCheck?: {
      protocol: string;
      intervalS: number;
      probeEveryMs: number;
      evaluationCount: number;
      host: string;
      path: string;
      failAbove: number;
    };
    addresses: Array<{ addr: string; cluster?: string; mode: string; health: string }>;
  }>;
  dns: { server: string; answer: string[] | { error: string } };
}

type RpcReply = Record<string, unknown>;

/** What GTM holds for `app` (its pools, their health and checks, its strategy and which set serves) and what DNS answers now. */
export async function trafficStatus(endpoints: LocalEndpoints, app: AppRef): Promise<TrafficStatus> {
  const [gtm, { default: RPCClient }, { resolveOnce }] = await Promise.all([
    gtmOf(endpoints),
    import('@alicloud/pop-core'),
    import('#local/drill.ts'),
  ]);
  const { endpoint, accessKeyId, accessKeySecret } = endpoints.gtm;
  // Health verdicts and the serving set are not in the Gtm port (the reconciler never needs them): asked directly.
  const rpc = new RPCClient({ endpoint, apiVersion: '2015-01-09', accessKeyId, accessKeySecret });
  const call = (action: string, params: RpcReply) => rpc.request<RpcReply>(action, params, { method: 'POST', timeout: 5000 });

  const [global, summaries, strategies] = await Promise.all([gtm.getGlobalConfig(), gtm.listPools(), gtm.listStrategies()]);
  const poolPrefix = ownedPoolName(app, '');
  const owned = summaries.filter((p) => p.name.startsWith(poolPrefix));
  const shortName = new Map(owned.map((p) => [p.id, p.name.slice(poolPrefix.length)]));
  const pools = await Promise.all(
    owned.map(async (summary) => {
      const [raw, monitor] = await Promise.all([
        call('DescribeDnsGtmInstanceAddressPool', { AddrPoolId: summary.id }),
        summary.monitorConfigId && summary.monitorStatus === 'OPEN' ? gtm.getMonitor(summary.monitorConfigId) : undefined,
      ]);
      const rows = ((raw.Addrs as { Addr?: RpcReply[] } | undefined)?.Addr ?? []).map((a) => ({
        addr: String(a.Addr),
        remark: String(a.Remark ?? ''),
        mode: String(a.Mode),
        health: String(a.AlertStatus ?? 'UNKNOWN'),
      }));
      return {
        name: shortName.get(summary.id) ?? summary.name,
        lbaStrategy: summary.lbaStrategy,
        ...(monitor
          ? {
              healthCheck: {
                protocol: monitor.protocol,
                intervalS: monitor.interval,
                probeEveryMs: monitor.interval * 1000 * endpoints.gtm.probeIntervalScale,
                evaluationCount: monitor.evaluationCount,
                host: monitor.host,
                path: monitor.path,
                failAbove: monitor.code,
              },
            }
          : {}),
        addresses: rows.map((row) => {
          const cluster = clusterOfRemark(app, row.remark);
          return { addr: row.addr, ...(cluster ? { cluster } : {}), mode: row.mode, health: row.health };
        }),
      };
    }),
  );

  const summary = strategies.find((s) => s.name === ownedStrategyName(app));
  let strategy: TrafficStatus['strategy'];
  if (summary) {
    const [detail, raw] = await Promise.all([
      gtm.getStrategy(summary.id),
      call('DescribeDnsGtmAccessStrategy', { StrategyId: summary.id }),
    ]);
    const names = (refs: Array<{ poolId: string }>) => refs.map((r) => shortName.get(r.poolId) ?? r.poolId);
    strategy = {
      name: summary.name,
      accessMode: detail.accessMode,
      serving: String(raw.EffectiveAddrPoolGroupType ?? 'UNKNOWN'),
      primary: names(detail.primary),
      failover: names(detail.failover),
      minAvailable: detail.minAvailable,
    };
  }

  const dnsServer = `${endpoints.gtm.dns.host}:${endpoints.gtm.dns.port}`;
  let answer: TrafficStatus['dns']['answer'] = [];
  if (global.userDomainName)
    answer = await resolveOnce(endpoints.gtm.dns, global.userDomainName).catch((err: unknown) => ({ error: errorMessage(err) }));
  return {
    instanceId: endpoints.gtm.instanceId,
    ...(global.userDomainName ? { domain: global.userDomainName } : {}),
    ttl: global.ttl,
    probeIntervalScale: endpoints.gtm.probeIntervalScale,
    ...(strategy ? { strategy } : {}),
    pools,
    dns: { server: dnsServer, answer },
  };
}

export interface TrafficStatus3 {
  gtmVersion: '3.0';
  instanceId: string;
  probeIntervalScale: number;
  /** The application's instance configuration: its domain, TTL, pools in order and how they are balanced. */
  config?: {
    id: string;
    domain: string;
    rrType: string;
    ttl: number;
    lbStrategy: string;
    sequenceMode?: string;
    pools: string[];
    health: string;
    available: string;
  };
  healthChecks: Array<{
    template: string;
    protocol: string;
    intervalS: number;
    probeEveryMs: number;
    timeoutMs: number;
    evaluationCount: number;
    failureRate: number;
    host: string;
    path: string;
    failAbove: number;
  }>;
  pools: Array<{
    name: string;
    lbStrategy: string;
    healthJudgement: string;
    health: string;
    addresses: Array<{ addr: string; cluster?: string; weight: number; enabled: string; mode: string; health: string; available: string }>;
  }>;
  dns: { server: string; answer: string[] | { error: string } };
}

/** What GTM 3.0 holds for `app` (its addresses with their health, its pools, its instance config and strategy) and what DNS answers now. */
export async function trafficStatus3(endpoints: LocalEndpoints, app: AppRef): Promise<TrafficStatus3> {
  const [gtm, { resolveOnce }] = await Promise.all([gtm3Of(endpoints), import('#local/drill.ts')]);
  const [addresses, pools, templates, configs] = await Promise.all([
    gtm.listAddresses(),
    gtm.listPools(),
    gtm.listMonitorTemplates(),
    gtm.listInstanceConfigs(),
  ]);
  const poolPrefix = ownedPoolName(app, '');
  const remark = ownedAppRemark(app);
  const owned = pools.filter((p) => p.name.startsWith(poolPrefix) && p.remark === remark);
  const shortName = new Map(owned.map((p) => [p.id, p.name.slice(poolPrefix.length)]));
  const byId = new Map(addresses.map((a) => [a.id, a]));
  const usedTemplates = new Set(
    owned.flatMap((p) => p.members.flatMap((m) => byId.get(m.addressId)?.healthTasks.map((t) => t.templateId) ?? [])),
  );
  const config = configs.find((c) => c.remark === remark);
  const scale = endpoints.gtm.probeIntervalScale;
  const dnsServer = `${endpoints.gtm.dns.host}:${endpoints.gtm.dns.port}`;
  let answer: TrafficStatus3['dns']['answer'] = [];
  if (config) answer = await resolveOnce(endpoints.gtm.dns, config.domain).catch((err: unknown) => ({ error: errorMessage(err) }));
  return {
    gtmVersion: '3.0',
    instanceId: endpoints.gtm.instanceId,
    probeIntervalScale: scale,
    ...(config
      ? {
          config: {
            id: config.id,
            domain: config.domain,
            rrType: config.rrType,
            ttl: config.ttl,
            lbStrategy: config.lbStrategy,
            ...(config.sequenceMode ? { sequenceMode: config.sequenceMode } : {}),
            pools: [...config.pools].sort((a, b) => a.serialNumber - b.serialNumber).map((p) => shortName.get(p.poolId) ?? p.poolId),
            health: config.healthStatus,
            available: config.availableStatus,
          },
        }
      : {}),
    healthChecks: templates
      .filter((t) => usedTemplates.has(t.id))
      .map((t) => ({
        template: t.name,
        protocol: t.protocol,
        intervalS: t.interval,
        probeEveryMs: t.interval * 1000 * scale,
        timeoutMs: t.timeout,
        evaluationCount: t.evaluationCount,
        failureRate: t.failureRate,
        host: t.host,
        path: t.path,
        failAbove: t.code,
      })),
    pools: owned.map((pool) => ({
      name: shortName.get(pool.id) ?? pool.name,
      lbStrategy: pool.lbStrategy,
      healthJudgement: pool.healthJudgement,
      health: pool.healthStatus,
      addresses: pool.members.map((m) => {
        const a = byId.get(m.addressId);
        const cluster = clusterOfRemark(app, a?.remark ?? m.remark);
        return {
          addr: a?.address ?? m.address,
          ...(cluster ? { cluster } : {}),
          weight: m.weight,
          enabled: a?.enableStatus ?? '?',
          mode: a?.availableMode ?? '?',
          health: a?.healthStatus ?? m.healthStatus,
          available: a?.availableStatus ?? m.availableStatus,
        };
      }),
    })),
    dns: { server: dnsServer, answer },
  };
}

export function formatTrafficStatus3(status: TrafficStatus3): string {
  const c = status.config;
  const lines = [
    c
      ? `GTM 3.0 ${status.instanceId}: ${c.domain} (${c.rrType}, TTL ${c.ttl} s), pools by ${c.lbStrategy}${c.sequenceMode ? ` (${c.sequenceMode})` : ''}: ${c.pools.join(' then ')}; ${c.health}, ${c.available}`
      : `GTM 3.0 ${status.instanceId}: no configuration of this application yet`,
  ];
  for (const check of status.healthChecks)
    lines.push(
      `health check ${check.template}: ${check.protocol} ${check.host}${check.path} every ${check.intervalS} s (every ${check.probeEveryMs} ms here), timeout ${check.timeoutMs} ms, unhealthy after ${check.evaluationCount} failures at over ${check.failureRate}% of probe points, fails above ${check.failAbove}`,
    );
  for (const pool of status.pools) {
    lines.push(`pool ${pool.name} (${pool.lbStrategy}, healthy when ${pool.healthJudgement}): ${pool.health}`);
    for (const a of pool.addresses)
      lines.push(
        `  ${a.addr.padEnd(15)} ${(a.cluster ?? '?').padEnd(20)} w${String(a.weight).padEnd(4)} ${a.enabled.padEnd(8)} ${a.mode.padEnd(7)} ${a.health.padEnd(14)} ${a.available}`,
      );
  }
  const answer = status.dns.answer;
  lines.push(
    `DNS ${status.dns.server} answers now: ${Array.isArray(answer) ? answer.join(', ') || '(nothing)' : `error: ${answer.error}`}`,
  );
  return lines.join('\n');
}

export function formatTrafficStatus(status: TrafficStatus): string {
  const lines = [
    `GTM ${status.instanceId}: domain ${status.domain ?? '(none yet)'}, TTL ${status.ttl} s; health-check intervals scaled by ${status.probeIntervalScale} locally`,
  ];
  const s = status.strategy;
  lines.push(
    s
      ? `strategy ${s.name} (${s.accessMode}): primary ${s.primary.join(', ')} while >= ${s.minAvailable} address(es) healthy, failover ${s.failover.join(', ') || '(none)'}; serving ${s.serving}`
      : 'strategy: none yet',
  );
  for (const pool of status.pools) {
    const check = pool.healthCheck;
    lines.push(
      `pool ${pool.name} (${pool.lbaStrategy}); ${
        check
          ? `${check.protocol} check of ${check.host}${check.path} every ${check.intervalS} s (every ${check.probeEveryMs} ms here), unhealthy after ${check.evaluationCount} failures, fails above ${check.failAbove}`
          : 'no health check'
      }`,
    );
    for (const a of pool.addresses) lines.push(`  ${a.addr.padEnd(15)} ${(a.cluster ?? '?').padEnd(20)} ${a.mode.padEnd(7)} ${a.health}`);
  }
  const answer = status.dns.answer;
  lines.push(
    `DNS ${status.dns.server} answers now: ${Array.isArray(answer) ? answer.join(', ') || '(nothing)' : `error: ${answer.error}`}`,
  );
  return lines.join('\n');
}

function positiveInteger(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new TricenterError('VALIDATION', `${flag} must be a positive integer, got "${value}"`);
    return n;
  };
}

function output(value: string): 'text' | 'json' {
  if (value === 'text' || value === 'json') return value;
  throw new TricenterError('VALIDATION', `-o must be text or json, got "${value}"`);
}

interface EndpointsOption {
  endpoints: string;
  verbose?: boolean;
}

export function register(program: Command): void {
  const traffic = program.command('traffic').description('GTM traffic of an application on the local twin: plan, apply, status');
  const endpointsOption = ['--endpoints <file>', 'the local twin to use', DEFAULT_ENDPOINTS_FILE] as const;
  const cliLogger = (verbose: boolean | undefined) =>
    verbose ? createLogger({ fn: 'cli' }, { sink: (line) => process.stderr.write(`${line}\n`) }) : silentLogger;

  traffic
    .command('plan <app>')
    .description('dry run: observe the Ingress addresses, read GTM and print the planned changes as JSON (nothing is written)')
    .option(...endpointsOption)
    .option('-v, --verbose', 'reconcile logs on stderr')
    .action(async (app: string, options: EndpointsOption) => {
      const results = await reconcileOnTwin(readEndpoints(options.endpoints), parseAppRef(app), {
        dryRun: true,
        logger: cliLogger(options.verbose),
      });
      console.log(
        terminalSafeJson(results.map(({ app: ref, gtmVersion, observations, plan }) => ({ app: ref, gtmVersion, observations, ...plan }))),
      );
    });

  traffic
    .command('apply <app>')
    .description('reconcile now: apply the planned changes to GTM (what the timer does every minute)')
    .option(...endpointsOption)
    .option('-v, --verbose', 'reconcile logs on stderr')
    .action(async (app: string, options: EndpointsOption) => {
      const results = await reconcileOnTwin(readEndpoints(options.endpoints), parseAppRef(app), {
        dryRun: false,
        logger: cliLogger(options.verbose),
      });
      for (const result of results) {
        const { changes, warnings } = result.plan;
        console.log(
          `${result.app.namespace}/${result.app.name} (GTM ${result.gtmVersion}): ${changes.length === 0 ? 'nothing to change' : `${result.applied?.applied ?? 0} change(s) applied`}`,
        );
        for (const change of changes) console.log(`  ${terminalSafe(JSON.stringify(change))}`);
        for (const warning of warnings) console.log(`  warning: ${terminalSafe(warning.message)}`);
      }
    });

  traffic
    .command('status <app>')
    .description(
      "the GTM emulator's pools, health and strategy for <namespace>/<name> (GTM 3.0: addresses with health, pools, the instance config), and what DNS answers now",
    )
    .option(...endpointsOption)
    .option('-o, --output <format>', 'text or json', output, 'text' as const)
    .action(async (app: string, options: EndpointsOption & { output: 'text' | 'json' }) => {
      const endpoints = readEndpoints(options.endpoints);
      if (isGtm3(endpoints)) {
        const status = await trafficStatus3(endpoints, parseAppRef(app));
        console.log(options.output === 'json' ? terminalSafeJson(status) : terminalSafeLines(formatTrafficStatus3(status)));
        return;
      }
      const status = await trafficStatus(endpoints, parseAppRef(app));
      console.log(options.output === 'json' ? terminalSafeJson(status) : terminalSafeLines(formatTrafficStatus(status)));
    });

  program
    .command('drill <app>')
    .description(
      'disaster-recovery drill on the local twin: requests through GTM DNS while Beijing fails and heals; failover times vs their bounds',
    )
    .option('--requests <n>', 'requests per phase', positiveInteger('--requests'), 50)
    .option('-o, --output <format>', 'text or json', output, 'text' as const)
    .option(...endpointsOption)
    .action(async (app: string, options: EndpointsOption & { requests: number; output: 'text' | 'json' }) => {
      const { controlApiFault, formatDrillReport, runDrillOnTwin } = await import('#local/drill.ts');
      const json = options.output === 'json';
      const endpoints = readEndpoints(options.endpoints);
      const setFault = controlApiFault(endpoints.sandboxControlUrl);
      // Ctrl-C in the middle must not leave a cluster failed: heal what the drill broke, then exit.
      const faulted = new Set<string>();
      const onInterrupt = (): void => {
        void Promise.allSettled([...faulted].map((cluster) => setFault(cluster, 'none'))).finally(() => process.exit(130));
      };
      process.once('SIGINT', onInterrupt);
      let report: DrillReport;
      try {
        report = await runDrillOnTwin(endpoints, {
          app: parseAppRef(app),
          requests: options.requests,
          setFault: async (cluster, fault) => {
            if (fault !== 'none') faulted.add(cluster);
            await setFault(cluster, fault);
            if (fault === 'none') faulted.delete(cluster);
          },
          // In JSON mode stdout carries the report alone.
          onProgress: (line) => (json ? process.stderr : process.stdout).write(`${line}\n`),
        });
      } finally {
        process.off('SIGINT', onInterrupt);
      }
      console.log(json ? terminalSafeJson(report) : `\n${terminalSafeLines(formatDrillReport(report))}`);
      if (!report.ok) process.exitCode = 1;
    });
}
