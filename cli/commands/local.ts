import { createWriteStream, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { createLogger } from '#shared/platform/log.ts';
import { TricenterError } from '#shared/platform/errors.ts';
import type { AppStatus } from '#shared/delivery/usecases/status.ts';
import type { LocalTwinOnClusters } from '#local/twin.ts';
import { ApiClient, packBundle } from '../client.ts';
import { formatWorkloads, reviewPageUrl } from '../status-view.ts';
import { formatTrafficStatus, formatTrafficStatus3, trafficStatus, trafficStatus3 } from './traffic.ts';
import type { AppRef } from '#shared/delivery/model/ownership.ts';

/**
 * `tricenter local up` (and `npm start`): the whole system on this machine. With the demo it
 * uploads examples/web-demo, narrates the run, stops at the approval gate, approves by itself after
 * a few seconds (unless --manual-approval), shows the per-cluster table, then keeps serving until
 * Ctrl-C. JSON logs go to .tricenter/logs/tricenter.log so the console stays readable.
 * An existing state folder is resumed (runs, approvals, bucket, GTM, simulated clusters), the demo
 * included: it carries on from where the run is; `--fresh` wipes the folder first (`npm start` does).
 * The twin and the drill are imported when `local up` runs, not for `tricenter --help`.
 */
interface UpOptions {
  clusters: string;
  dir: string;
  demo: boolean;
  bundle: string;
  manualApproval?: boolean;
  approveAfter: string;
  readyDelay: string;
  dataPlanePort: string;
  approvalPort: string;
  probeScale: string;
  gtmVersion?: '3.0' | '2.0';
  kubeconfig?: string;
  fresh?: boolean;
}

const say = (line = '') => console.log(line);

export function register(program: Command): void {
  const local = program
    .command('local')
    .description('the local twin: simulated clusters, GTM emulator, SQLite, folder bucket, in-process queue');
  local
    .command('up')
    .description('start every local service (and, unless --no-demo, run the seed scenario)')
    .option('--clusters <file>', 'cluster registry', 'examples/web-demo/clusters.yaml')
    .option('--dir <dir>', 'state folder', '.tricenter')
    .option('--no-demo', 'only start the services')
    .option('--bundle <path>', 'bundle the demo uploads', 'examples/web-demo')
    .option('--manual-approval', 'wait for `tricenter approve` instead of approving by itself')
    .option('--approve-after <seconds>', 'demo: approve by itself after this long', '5')
    .option('--ready-delay <ms>', 'simulated Deployments become ready after this long', '1500')
    .option('--data-plane-port <port>', 'port of every cluster data plane (on 127.0.0.2, .3, ...)', '8080')
    .option('--approval-port <port>', 'port of the approval API on 127.0.0.1', '8787')
    .option('--probe-scale <factor>', 'GTM health-check intervals are multiplied by this locally', '0.05')
    .option(
      '--gtm-version <version>',
      'which GTM the emulator is and gtm-reconcile speaks: 3.0 (CloudGtm*, the default) or 2.0 (DnsGtm*)',
      gtmVersionOption,
    )
    .option('--kubeconfig <path>', 'deploy to these clusters (one context per registry cluster) instead of simulated ones')
    .option('--fresh', 'wipe the state folder (runs, bucket, GTM, simulated clusters) instead of resuming it')
    .action(async (options: UpOptions) => {
      const dir = resolve(options.dir);
      mkdirSync(join(dir, 'logs'), { recursive: true });
      const logFile = join(dir, 'logs', 'tricenter.log');
      const logStream = createWriteStream(logFile, { flags: options.fresh ? 'w' : 'a' });
      const logger = createLogger({ fn: 'local' }, { sink: (line) => logStream.write(`${line}\n`) });

      const { startLocalTwin, startLocalTwinOnClusters, DEFAULT_GTM_VERSION } = await import('#local/twin.ts');
      const gtmVersion = options.gtmVersion ?? DEFAULT_GTM_VERSION;
      say('Starting the local twin...');
      const common = {
        gtmVersion,
        dir,
        fresh: options.fresh ?? false,
        clustersFile: options.clusters,
        approvalPort: Number(options.approvalPort),
        probeIntervalScale: Number(options.probeScale),
        logger,
      };
      const twin: LocalTwinOnClusters = options.kubeconfig
        ? await startLocalTwinOnClusters({ ...common, kubeconfig: options.kubeconfig })
        : await startLocalTwin({ ...common, readyDelayMs: Number(options.readyDelay), dataPlanePort: Number(options.dataPlanePort) });
      let stopping = false;
      const shutdown = async () => {
        if (stopping) return;
        stopping = true;
        say('\nStopping...');
        await twin.stop();
        logStream.end();
        process.exit(0);
      };
      process.on('SIGINT', () => void shutdown());
      process.on('SIGTERM', () => void shutdown());

      if (twin.resumed) say(`Resumed the state folder ${dir} (--fresh starts clean).`);
      printEndpoints(twin, logFile);
      if (options.demo) {
        const app = await runDemo(twin, options);
        // The drill fails clusters on purpose: only simulated ones.
        if (app && !options.kubeconfig) await runDemoDrill(twin, app);
      }
      printNextSteps(twin, options.demo);
      await new Promise(() => {});
    });
}

function gtmVersionOption(value: string): '3.0' | '2.0' {
  if (value === '3.0' || value === '2.0') return value;
  throw new TricenterError('VALIDATION', `--gtm-version must be 3.0 or 2.0, got "${value}"`);
}

function printEndpoints(twin: LocalTwinOnClusters, logFile: string): void {
  const e = twin.endpoints;
  say(`  approval API   ${e.approvalUrl}   (token in ${twin.endpointsFile})`);
  if (e.reviewUrl) say(`  review page    ${e.reviewUrl}`);
  if (e.webhookReceiverUrl) say(`  notifications  ${e.webhookReceiverUrl}   (what DingTalk/Feishu/webhooks would have been sent)`);
  say(`  kubeconfig     ${e.kubeconfig}   (contexts: ${e.clusters.map((c) => c.name).join(', ')})`);
  for (const c of e.clusters)
    say(
      e.sandboxControlUrl
        ? `  ${c.name.padEnd(18)} API ${c.apiUrl}   ingress ${c.dataPlaneUrl}`
        : `  ${c.name.padEnd(18)} context ${c.name} of ${e.kubeconfig}`,
    );
  say(
    `  GTM ${e.gtm.gtmVersion ?? '2.0'} emulator ${e.gtm.endpoint}   DNS ${e.gtm.dns.host}:${e.gtm.dns.port}   (health-check intervals x${e.gtm.probeIntervalScale})`,
  );
  say(`  bucket         ${e.bucket.root}/${e.bucket.name}   store ${e.store}`);
  say(`  logs           ${logFile}`);
  say();
}

async function runDemo(twin: LocalTwinOnClusters, options: UpOptions): Promise<AppRef | undefined> {
  const client = new ApiClient({ endpoint: twin.endpoints.approvalUrl, token: twin.endpoints.token });
  const bundle = await packBundle(options.bundle);
  const app = bundle.app;
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;
  const uploaded = await client.upload(app, bundle);
  say(`${elapsed()}  uploaded ${options.bundle} -> ${uploaded.bucket}/${uploaded.key}`);

  const seen = new Map<string, string>();
  let approvalScheduled = false;
  for (;;) {
    const status = await client.status(app).catch(() => undefined);
    if (status) {
      for (const line of changes(status, seen)) say(`${elapsed()}  ${line}`);
      if (status.phase === 'workflowSuspending' && !approvalScheduled) {
        approvalScheduled = true;
        const step = status.steps.find((s) => s.awaiting === 'approval');
        say();
        say(formatWorkloads(status));
        say();
        say(`Waiting for a review before ${step?.name ?? 'the next step'}. From another terminal:`);
        say(`  npx tricenter approve ${app.namespace}/${app.name} --comment "cluster1-beijing looks good"`);
        say(`or review what it will change and decide on the page (sign in with the token in ${twin.endpointsFile}):`);
        say(`  ${reviewPageUrl(twin.endpoints.approvalUrl, app)}`);
        if (!options.manualApproval) {
          say(`(approving by itself in ${options.approveAfter} s; run with --manual-approval to decide yourself)`);
          setTimeout(() => {
            client.decide(app, 'approve', 'approved by the demo').catch(() => undefined);
          }, Number(options.approveAfter) * 1000).unref();
        }
        say();
      }
      if (['running', 'workflowFailed', 'workflowTerminated'].includes(status.phase)) {
        say();
        say(formatWorkloads(status));
        if (status.reason) say(`reason: ${status.reason}`);
        return status.phase === 'running' ? app : undefined;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * The seed's disaster-recovery verification: once GTM holds the application's pools and its
 * health checks have seen every address, fail the Beijing clusters one by one and heal them.
 */
async function runDemoDrill(twin: LocalTwinOnClusters, app: AppRef): Promise<void> {
  say();
  say('Waiting for GTM to hold the pools and for its health checks to pass...');
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (gtmReady(twin)) break;
    if (Date.now() > deadline) {
      say('GTM is not ready after 60 s; skipping the drill (see the logs, then run `npx tricenter drill demo/web-demo`).');
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  say(
    twin.gtm.gtmVersion === '3.0'
      ? formatTrafficStatus3(await trafficStatus3(twin.endpoints, app))
      : formatTrafficStatus(await trafficStatus(twin.endpoints, app)),
  );
  const { formatDrillReport, runDrillOnTwin } = await import('#local/drill.ts');
  say();
  const report = await runDrillOnTwin(twin.endpoints, { app, onProgress: (line) => say(`  ${line}`) });
  say();
  say(formatDrillReport(report));
}

/** GTM holds the application's traffic and has checked every address at least once, all healthy. */
function gtmReady(twin: LocalTwinOnClusters): boolean {
  const clusters = twin.endpoints.clusters.length;
  if (twin.gtm.gtmVersion === '3.0') {
    const state = twin.gtm.cloudState();
    const tasks = state.addresses.flatMap((a) => a.tasks);
    return (
      state.configs.some((c) => c.poolIds.length > 0) &&
      state.addresses.length >= clusters &&
      tasks.length >= clusters &&
      tasks.every((t) => t.healthy && t.lastCheckedAt !== undefined)
    );
  }
  const state = twin.gtm.state();
  const addresses = state.pools.flatMap((p) => p.addresses);
  return state.strategies.length > 0 && addresses.length >= clusters && addresses.every((a) => a.healthy && a.lastCheckedAt !== undefined);
}

/** What changed since the last look, as narration lines. */
function changes(status: AppStatus, seen: Map<string, string>): string[] {
  const lines: string[] = [];
  const note = (key: string, value: string, line: string) => {
    if (seen.get(key) !== value) lines.push(line);
    seen.set(key, value);
  };
  note('phase', status.phase, `phase ${status.phase}${status.publishVersion ? ` (publishVersion ${status.publishVersion})` : ''}`);
  for (const step of status.steps) {
    note(`step:${step.name}`, step.phase, `step ${step.name}: ${step.phase}${step.awaiting ? `, awaiting ${step.awaiting}` : ''}`);
    for (const task of step.clusters) {
      note(
        `task:${step.name}:${task.cluster}`,
        `${task.status}:${task.attempt}`,
        `  ${task.cluster}: ${task.status}${task.message ? ` (${task.message})` : ''}`,
      );
    }
  }
  for (const decision of status.decisions)
    note(`decision:${decision.id}`, decision.kind, `${decision.kind} by ${decision.by}${decision.comment ? `: ${decision.comment}` : ''}`);
  return lines;
}

function printNextSteps(twin: LocalTwinOnClusters, demo: boolean): void {
  const e = twin.endpoints;
  const beijing = e.clusters[0];
  say();
  say('The local twin keeps running until Ctrl-C. Things to try from another terminal:');
  say('  npx tricenter status demo/web-demo --watch');
  if (beijing && e.sandboxControlUrl) say(`  curl -H 'Host: web-demo.example.com' ${beijing.dataPlaneUrl}/`);
  say(`  dig @${e.gtm.dns.host} -p ${e.gtm.dns.port} web-demo.example.com`);
  say(`  kubectl --kubeconfig ${e.kubeconfig} --context ${beijing?.name ?? '<cluster>'} get deploy,svc,ingress,cm -n demo`);
  if (e.sandboxControlUrl) {
    say(`  npx tricenter sandbox fail ${beijing?.name ?? '<cluster>'} --kubeconfig ${e.kubeconfig}    # then watch DNS fail over`);
    say('  npx tricenter drill demo/web-demo');
  }
  if (!demo) say('  npx tricenter upload examples/web-demo');
}
