import { randomBytes, randomUUID } from 'node:crypto';
import { SignedWebhookNotifier } from '#shared/delivery/adapters/notify/webhook-notifiers.ts';
import { parseLinkTtl } from '#shared/delivery/adapters/notify/config.ts';
import type { ApproverToken } from '#shared/delivery/model/approval-link.ts';
import type { Notifier } from '#shared/delivery/ports/notifier.port.ts';
import { startWebhookReceiver } from './webhook-receiver.ts';
import { SqliteApprovalLinkStore } from '#shared/delivery/adapters/local/sqlite-approval-links.ts';
import { SqliteNotificationOutbox } from '#shared/delivery/adapters/local/sqlite-notification-outbox.ts';
import { stepPreviewOf } from '#shared/delivery/approval/links.ts';
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createBundleIngestHandler } from '#functions/bundle-ingest/handler.ts';
import { createDeployStepHandler, type DriftShardMessage } from '#functions/deploy-step/handler.ts';
import type { ApprovalDeps } from '#functions/approval/deps.ts';
import { createApprovalHandler } from '#functions/approval/handler.ts';
import { createGtmReconcileHandler, type TrafficDeps } from '#functions/gtm-reconcile/handler.ts';
import { loadBundle } from '#shared/delivery/bundle/load.ts';
import { systemClock, type Clock } from '#shared/platform/clock.ts';
import { errorMessage } from '#shared/platform/errors.ts';
import { createLogger, type Logger } from '#shared/platform/log.ts';
import { parseClusterRegistry } from '#shared/delivery/model/bundle.ts';
import type { ClusterRegistry } from '#shared/delivery/model/clusters.ts';
import type { FcContext, FcHandler } from '#shared/platform/triggers/fc.ts';
import type { HttpTriggerResponse } from '#shared/platform/triggers/http.ts';
import { BUNDLE_PREFIX } from '#shared/delivery/model/bucket-key.ts';
import { AlidnsGtm } from '#shared/traffic/adapters/aliyun/alidns-gtm.ts';
import { AlidnsCloudGtm } from '#shared/traffic/adapters/aliyun/alidns-cloudgtm.ts';
import { createClusterConnections } from '#shared/delivery/adapters/kube/connections.ts';
import { createKubeGateway, type KubeGateway } from '#shared/delivery/adapters/kube/gateway.ts';
import { watchFolderBucket, type BucketWatcher } from '#shared/delivery/adapters/local/folder-bucket-watcher.ts';
import { FolderBucket } from '#shared/delivery/adapters/local/folder-bucket.ts';
import { BucketReleaseObjectStore } from '#shared/delivery/adapters/bucket-release-objects.ts';
import { ReleaseManifests } from '#shared/delivery/usecases/release-manifests.ts';
import { InProcessQueue, type QueueStats } from '#shared/delivery/adapters/local/in-process-queue.ts';
import { SqliteRunStore } from '#shared/delivery/adapters/local/sqlite-run-store.ts';
import type { ConsumingTaskQueue, TaskQueue } from '#shared/delivery/ports/task-queue.port.ts';
import { DEFAULT_HEALTH_WAIT, type StepFinishedMessage, type WorkflowDeps } from '#shared/delivery/usecases/deps.ts';
import { sweepRuns, tickRun } from '#shared/delivery/usecases/sweep.ts';
import { storeReplayGuard } from '#functions/cloud.ts';
import type { DeployTask } from '#shared/delivery/workflow/run.ts';
import { startGtmEmulator, type GtmEmulator, type GtmVersion } from '#sandbox/gtm/index.ts';
import { startSandbox, type Sandbox } from '#sandbox/index.ts';
import { BackgroundWork } from './background-work.ts';
import { withEarlierClaimsStale } from './earlier-claims.ts';
import { FaultInjector, type FaultStats, type TwinFaults } from './faults.ts';
import { startHttpTrigger, type HttpTriggerServer } from './http-trigger.ts';
import {
  checkRunStoreFile,
  explainStateError,
  GTM_STATE_FILE,
  RUN_STORE_FILE,
  SANDBOX_STATE_FILE,
  withStateFolder,
  type StateFolder,
  type StateFolderOptions,
} from './state-folder.ts';

/**
 * The local twin of the whole system on one machine: simulated clusters, the GTM emulator, SQLite
 * for Tablestore, a folder for the bucket, an in-process queue for FC async invocations, an HTTP
 * server for the approval trigger and timers for the timer triggers. The four functions are the
 * same handlers the cloud runs, composed here with local adapters.
 */
export interface LocalTwinOptions {
  /**
   * State folder (default `.tricenter`): runs, approvals, bucket, GTM, the simulated clusters'
   * objects and the secrets are kept there, and a twin started on it again resumes (see
   * state-folder.ts). One twin per folder at a time.
   */
  dir?: string;
  /** Wipe the state folder first instead of resuming it. */
  fresh?: boolean;
  clustersFile: string;
  readyDelayMs?: number;
  /** Sandbox data plane port (default 8080; 0 = any free port). */
  dataPlanePort?: number;
  /** Approval API port (default 0 = the port of the previous start if it is free, else any free port). */
  approvalPort?: number;
  /** GTM health-check intervals are multiplied by this locally (default 0.05: 60 s becomes 3 s). */
  probeIntervalScale?: number;
  /**
   * Which GTM the emulator is and gtm-reconcile speaks (default 3.0: the CloudGtm* actions; 2.0:
   * the DnsGtm* ones). A state folder resumes only with the version it was started with.
   */
  gtmVersion?: GtmVersion;
  /** How often the timer triggers fire locally (default 2 s; 1 minute in the cloud). */
  timerIntervalMs?: number;
  /** State keeping (drift found and healed) at most this often (default 10 s; at every timer event, once a minute, in the cloud). */
  keepStateIntervalMs?: number;
  healthWait?: { totalMs: number; pollMs: number };
  /** Chaos runs: the task queue duplicates, delays and drops, and tasks crash between apply and record. */
  faults?: TwinFaults;
  queueConcurrency?: number;
  logger?: Logger;
  clock?: Clock;
  /** Settings read as the cloud's functions read them (TRICENTER_APPROVAL_LINK_TTL); default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** The twin run against clusters of a kubeconfig (one context per registry cluster) instead of the sandbox. */
export interface LocalTwinOnClustersOptions extends Omit<LocalTwinOptions, 'readyDelayMs' | 'dataPlanePort'> {
  kubeconfig: string;
}

export interface LocalEndpoints {
  approvalUrl: string;
  /** The review page of an application awaiting approval: `{namespace}` and `{name}` filled in (absent in files of older twins). */
  reviewUrl?: string;
  /** The twin's webhook receiver: what notifications would have been sent (absent in files of older twins). */
  webhookReceiverUrl?: string;
  token: string;
  kubeconfig: string;
  /** Absent when the twin runs against the clusters of a kubeconfig. */
  sandboxControlUrl?: string;
  clusters: Array<{ name: string; apiUrl: string; ingressAddress: string; dataPlaneUrl: string }>;
  /** The secret too: `tricenter traffic` signs its GTM calls with it (the file is written 0600, like the token above). */
  gtm: {
    /** Absent in files written before GTM 3.0 was emulated: those were 2.0. */
    gtmVersion?: GtmVersion;
    endpoint: string;
    instanceId: string;
    accessKeyId: string;
    accessKeySecret: string;
    dns: { host: string; port: number };
    probeIntervalScale: number;
  };
  /** The cluster registry the twin runs (absolute path), for commands that reconcile traffic themselves. */
  clustersFile: string;
  bucket: { root: string; name: string };
  store: string;
}

export interface LocalTwinOnClusters {
  endpoints: LocalEndpoints;
  /** True when the state folder held a twin before and this one continued it. */
  resumed: boolean;
  endpointsFile: string;
  gtm: GtmEmulator;
  deps: ApprovalDeps;
  /** The deploy tasks' queue (behind the fault injector when `faults` is given). */
  queue: ConsumingTaskQueue<DeployTask>;
  queueStats: QueueStats;
  /** What the fault injector did, when `faults` was given. */
  faultStats?: FaultStats;
  /** Runs the traffic reconcile once for every application (what the timer does). */
  reconcileTraffic(): Promise<void>;
  /** The four functions' handlers as this twin composed them (`npm run invoke` calls them). */
  handlers: Record<'bundle-ingest' | 'deploy-step' | 'approval' | 'gtm-reconcile', FcHandler>;
  /** Stops taking work, waits for the work in flight (tasks, ticks, traffic reconciles), then stops every server. */
  stop(): Promise<void>;
}

export interface LocalTwin extends LocalTwinOnClusters {
  sandbox: Sandbox;
}

/** What the services need from the clusters they deploy to. */
interface ClusterTarget {
  kubeconfigPath: string;
  dataPlanePort: number;
  controlUrl?: string;
  clusters: LocalEndpoints['clusters'];
}

export const LOCAL_BUCKET = 'tricenter-bundles';
/** What `local up` runs when not told (`--gtm-version`). */
export const DEFAULT_GTM_VERSION: GtmVersion = '3.0';
const LOCAL_TOKEN_NAME = 'local-operator';

/** The whole twin on simulated clusters (the sandbox), what `npm start` runs. */
export async function startLocalTwin(options: LocalTwinOptions): Promise<LocalTwin> {
  const settings = twinSettings(options);
  const registry = parseClusterRegistry(await loadBundle(options.clustersFile));
  return withStateFolder(folderOptions(options), { kind: 'sandbox' }, (folder) => startOnSandbox(options, settings, registry, folder));
}

/** What the twin reads from its environment, read before anything starts: a bad value names its variable. */
interface TwinSettings {
  linkTtlMs: number | undefined;
}

function twinSettings(options: Pick<LocalTwinOptions, 'env'>): TwinSettings {
  return { linkTtlMs: parseLinkTtl((options.env ?? process.env).TRICENTER_APPROVAL_LINK_TTL) };
}

async function startOnSandbox(
  options: LocalTwinOptions,
  settings: TwinSettings,
  registry: ClusterRegistry,
  folder: StateFolder,
): Promise<LocalTwin> {
  const sandbox = await startSandbox({
    clusters: registry.clusters,
    dir: join(folder.dir, 'sandbox'),
    readyDelayMs: options.readyDelayMs ?? 2000,
    dataPlanePort: options.dataPlanePort ?? 8080,
    state: { file: join(folder.dir, SANDBOX_STATE_FILE), mustExist: folder.resumed },
  }).catch(explainStateError);
  const target: ClusterTarget = {
    kubeconfigPath: sandbox.kubeconfigPath,
    dataPlanePort: sandbox.clusters[0]?.dataPlanePort ?? 8080,
    controlUrl: sandbox.controlUrl,
    clusters: sandbox.clusters.map(({ name, apiUrl, ingressAddress, dataPlaneUrl }) => ({ name, apiUrl, ingressAddress, dataPlaneUrl })),
  };
  const services = await startServices(options, settings, registry, target, folder).catch(async (err: unknown) => {
    await sandbox.stop();
    throw err;
  });
  return {
    ...services,
    sandbox,
    stop: async () => {
      await services.stop();
      await sandbox.stop();
    },
  };
}

/**
 * The same services against real clusters: a kubeconfig with one context per registry cluster
 * (any Kubernetes: kind, ACK, or kube-apiserver processes in the test suite).
 */
export async function startLocalTwinOnClusters(options: LocalTwinOnClustersOptions): Promise<LocalTwinOnClusters> {
  const settings = twinSettings(options);
  const registry = parseClusterRegistry(await loadBundle(options.clustersFile));
  const kubeconfigPath = resolve(options.kubeconfig);
  return withStateFolder(folderOptions(options), { kind: 'kubeconfig', path: kubeconfigPath }, (folder) =>
    startServices(
      options,
      settings,
      registry,
      {
        kubeconfigPath,
        dataPlanePort: 80,
        clusters: registry.clusters.map(({ name }) => ({ name, apiUrl: '', ingressAddress: '', dataPlaneUrl: '' })),
      },
      folder,
    ),
  );
}

function folderOptions(options: Pick<LocalTwinOptions, 'dir' | 'fresh' | 'clock' | 'logger'>): StateFolderOptions {
  return {
    dir: resolve(options.dir ?? '.tricenter'),
    fresh: options.fresh ?? false,
    tokenName: LOCAL_TOKEN_NAME,
    now: (options.clock ?? systemClock).now(),
    logger: options.logger ?? createLogger({ fn: 'local' }),
  };
}

async function startServices(
  options: Omit<LocalTwinOptions, 'readyDelayMs' | 'dataPlanePort'>,
  settings: TwinSettings,
  registry: ClusterRegistry,
  target: ClusterTarget,
  folder: StateFolder,
): Promise<LocalTwinOnClusters> {
  const { dir, manifest } = folder;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger({ fn: 'local' });
  checkRunStoreFile(join(dir, RUN_STORE_FILE), folder.resumed);

  const stops: Array<() => Promise<void> | void> = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await Promise.resolve(fn()).catch(() => {});
  };
  try {
    const gtmKey = { ...manifest.gtm };
    const dataPlanePort = target.dataPlanePort;
    const gtm = await startGtmEmulator({
      ...gtmKey,
      gtmVersion: options.gtmVersion ?? DEFAULT_GTM_VERSION,
      probeIntervalScale: options.probeIntervalScale ?? 0.05,
      probePortOverride: () => dataPlanePort,
      logger: logger.child({ fn: 'gtm-emulator' }),
      state: { file: join(dir, GTM_STATE_FILE), mustExist: folder.resumed },
    }).catch(explainStateError);
    stops.push(() => gtm.stop());

    const store = new SqliteRunStore({ path: join(dir, RUN_STORE_FILE) });
    stops.push(() => store.close());
    // One-time approval links: a table of their own in the same file, through a connection of their own.
    const approvalLinks = new SqliteApprovalLinkStore({ path: join(dir, RUN_STORE_FILE) });
    stops.push(() => approvalLinks.close());
    // Messages the receiver did not take, sent again by the timer: a table of their own, a connection of their own.
    const outbox = new SqliteNotificationOutbox({ path: join(dir, RUN_STORE_FILE) });
    stops.push(() => outbox.close());
    // Notifications go to a receiver on this machine that shows what chat robots would have been sent.
    // Started before the queue and the background work, so it closes after them: work in flight still notifies.
    const notifySecret = randomBytes(24).toString('hex');
    const receiver = await startWebhookReceiver({ secret: notifySecret, now: () => clock.now() });
    stops.push(() => receiver.close());
    const bucket = new FolderBucket(join(dir, 'bucket'));
    const gateway: KubeGateway = createKubeGateway({
      connections: createClusterConnections({ clusters: registry.clusters, defaultKubeconfigPath: target.kubeconfigPath, logger }),
      logger,
      requestTimeoutMs: 3000,
    });
    stops.push(() => gateway.close());
    // Stopped after the queue and before the gateway, the store and the emulator it uses.
    const background = new BackgroundWork(logger);
    stops.push(() => background.stop());
    const localQueue = new InProcessQueue<DeployTask>({ concurrency: options.queueConcurrency ?? 32, logger });
    const faults = options.faults ? new FaultInjector(options.faults) : undefined;
    const queue = faults ? faults.queue(localQueue) : localQueue;
    stops.push(() => queue.stop());

    const context = (fn: string): FcContext => ({ requestId: randomUUID(), function: { name: fn } });
    const wakeups = new Map<string, NodeJS.Timeout>();
    stops.push(() => {
      for (const timer of wakeups.values()) clearTimeout(timer);
    });

    const gtmAdapterOptions = { endpoint: gtm.endpoint, instanceId: gtm.instanceId, credentials: gtmKey, logger };
    // The emulator is one instance of one generation: gtm-reconcile speaks what it speaks, whatever
    // version the registry gives the instance (the cloud builds the port the registry says).
    const localGtm = gtm.gtmVersion === '3.0' ? new AlidnsCloudGtm(gtmAdapterOptions) : new AlidnsGtm(gtmAdapterOptions);
    const trafficDeps: TrafficDeps = {
      store,
      registry: async () => registry,
      gateway,
      // The emulator serves one instance; a policy naming another gets it all the same.
      gtmFor: () => localGtm,
      history: store.trafficHistory,
      clock,
      logger,
      dryRun: false,
      // A timer round too large for one invocation: its shards join the serialized reconciles below.
      shards: {
        send: async (messages) => {
          for (const message of messages) void invokeTraffic(message);
        },
      },
    };
    const gtmReconcile = createGtmReconcileHandler(async () => trafficDeps);
    // Reconciles never overlap here: two at once both see a pool missing and both create it (GTM has
    // no conditional create), and the planner then refuses to touch the duplicates. A timer event
    // already waiting makes another one redundant. Each one is background work, so stop() waits for it.
    let trafficTail: Promise<void> = Promise.resolve();
    let waitingTimerRun: Promise<void> | undefined;
    const invokeTraffic = (event: object): Promise<void> => {
      const fromTimer = !('type' in event);
      if (fromTimer && waitingTimerRun) return waitingTimerRun;
      const previous = trafficTail;
      const run = background.start('gtm-reconcile', async () => {
        await previous;
        if (fromTimer) waitingTimerRun = undefined;
        await gtmReconcile(Buffer.from(JSON.stringify(event)), context('gtm-reconcile'));
      });
      if (fromTimer) waitingTimerRun = run;
      trafficTail = run;
      return run;
    };
    // What a deploy step that succeeded sends to: gtm-reconcile's async invocations, in this process.
    const trafficQueue: TaskQueue<StepFinishedMessage> = {
      send: async (messages) => {
        for (const message of messages) void invokeTraffic(message);
      },
    };

    let watcher: BucketWatcher | undefined;
    let approvalBase = '';
    const deps: ApprovalDeps = {
      store: withEarlierClaimsStale(store, clock.now()),
      queue,
      gateway,
      // Like an OSS trigger, an upload through the API is announced at once rather than when the
      // watcher next notices the file.
      bundles: {
        head: (b, k) => bucket.head(b, k),
        get: (b, k, o) => bucket.get(b, k, o),
        list: (b, o) => bucket.list(b, o),
        put: async (b, k, data) => {
          const info = await bucket.put(b, k, data);
          void watcher?.rescan().catch(() => undefined);
          return info;
        },
      },
      // Straight to the folder, not through the announcing wrapper above: release objects are no uploads.
      manifests: new ReleaseManifests(new BucketReleaseObjectStore(bucket, LOCAL_BUCKET)),
      registry: async () => registry,
      clock,
      logger,
      newId: () => `run-${clock.now().toString(36)}-${randomBytes(3).toString('hex')}`,
      healthWait: options.healthWait ?? DEFAULT_HEALTH_WAIT,
      // The emulator serves one instance: a TrafficPolicy that names none gets it.
      gtmDefaultInstanceId: gtm.instanceId,
      trafficQueue,
      scheduleWakeup: (runId, at) => {
        clearTimeout(wakeups.get(runId));
        const timer = setTimeout(
          () => {
            wakeups.delete(runId);
            void background.start('wake-up', () => tickRun(deps, runId), { runId });
          },
          Math.max(0, at - clock.now()),
        );
        timer.unref();
        wakeups.set(runId, timer);
      },
      notifications: {
        // A one-person demo: the receiver stands for each approver's own inbox, so it carries every approver's link.
        notifiers: [
          twinReceiverChannel(
            new SignedWebhookNotifier({
              name: 'local-webhook',
              url: `${receiver.url}hooks/tricenter`,
              secret: notifySecret,
              now: () => clock.now(),
            }),
            () => deps.auth.tokens,
          ),
        ].map((channel) => faults?.notifier(channel) ?? channel),
        reviewLink: (app) => `${approvalBase}/apps/${app.namespace}/${app.name}/review`,
        // The twin's timer ticks every few seconds: a message the receiver missed is due again after 5 s, not a minute.
        outbox: { store: outbox, now: () => clock.now(), firstRetryMs: 5_000 },
        // Every approver token the step's policy allows gets a link; the tokens are read as configured at the time.
        links: {
          store: approvalLinks,
          tokens: () => deps.auth.tokens,
          url: (token) => `${approvalBase}/links/${token}`,
          preview: (app, step) => stepPreviewOf(deps, app, step),
          now: () => clock.now(),
          ...(settings.linkTtlMs !== undefined ? { ttlMs: settings.linkTtlMs } : {}),
        },
      },
      links: approvalLinks,
      auth: { tokens: manifest.approval.tokens.map((token) => ({ ...token })), hmacSecret: manifest.approval.hmacSecret },
      // The HMAC secret outlives the process, so the signatures already used must too.
      replay: storeReplayGuard(store, LOCAL_BUCKET),
      bucket: LOCAL_BUCKET,
    };
    const getDeps = async (): Promise<WorkflowDeps & ApprovalDeps> => deps;

    // A state-keeping round too large for one invocation: each of its shards is an invocation of its own, as background work.
    const driftShards: TaskQueue<DriftShardMessage> = {
      send: async (messages) => {
        for (const message of messages)
          void background.start('drift-shard', () => deployStep(Buffer.from(JSON.stringify(message)), context('deploy-step')));
      },
    };
    const deployStep = createDeployStepHandler(async () => ({ ...deps, driftShards }), {
      keepStateEveryMs: options.keepStateIntervalMs ?? 10_000,
    });
    // Under faults, the worker's run writes may crash after its apply; nothing else's do.
    const taskWorker = faults
      ? createDeployStepHandler(async () => ({ ...deps, store: faults.crashingRunWrites(deps.store) }))
      : deployStep;
    queue.start((task) => taskWorker(Buffer.from(JSON.stringify(task)), context('deploy-step')).then(() => undefined));
    if (folder.resumed) {
      // The queue died with the previous process: every task it held is lost for sure, so it is
      // re-sent now rather than after the run's resend delay. Before the bucket watcher and the
      // API start, so that nothing sent by this process is mistaken for a lost task.
      const swept = await sweepRuns(deps, { resendAfterMs: 0 });
      logger.info('resumed runs', swept);
    }

    const ingest = createBundleIngestHandler(getDeps);
    const bucketWatcher = await watchFolderBucket(bucket, {
      bucket: LOCAL_BUCKET,
      prefix: BUNDLE_PREFIX,
      region: 'local',
      // Uploads through the API land by an atomic rename: no need to wait long for writes to settle.
      debounceMs: 50,
      onEvent: async (event) => {
        await ingest(Buffer.from(JSON.stringify(event)), context('bundle-ingest')).catch((err: unknown) =>
          logger.error('bundle-ingest failed', { error: errorMessage(err) }),
        );
      },
    });
    watcher = bucketWatcher;
    stops.push(() => bucketWatcher.close());
    // Node 20's recursive fs.watch misses files under folders created after it started (an OSS
    // trigger never misses), so a cheap rescan backs it up for files copied in by hand.
    const rescan = setInterval(() => void bucketWatcher.rescan().catch(() => undefined), 1000);
    rescan.unref();
    stops.push(() => clearInterval(rescan));

    const approvalHandler = createApprovalHandler(getDeps);
    const approval: HttpTriggerServer = await listenForApprovals(
      approvalHandler,
      options.approvalPort ?? 0,
      manifest.approval.port,
      logger,
    );
    stops.push(() => approval.close());
    approvalBase = approval.url.replace(/\/$/, '');
    const approvalPort = Number(new URL(approval.url).port);
    if (manifest.approval.port !== approvalPort) {
      manifest.approval.port = approvalPort;
      folder.save();
    }

    const timerEvent = () => ({ triggerTime: new Date(clock.now()).toISOString(), triggerName: 'local-timer', payload: '' });
    // A sweep still running (state keeping observes every cluster) skips the tick: rounds never pile up.
    let sweeping = false;
    const timer = setInterval(() => {
      if (!sweeping) {
        sweeping = true;
        void background
          .start('sweep', () => deployStep(Buffer.from(JSON.stringify(timerEvent())), context('deploy-step')))
          .finally(() => {
            sweeping = false;
          });
      }
      void invokeTraffic(timerEvent());
    }, options.timerIntervalMs ?? 2000);
    timer.unref();
    stops.push(() => clearInterval(timer));

    const endpoints: LocalEndpoints = {
      approvalUrl: approval.url,
      reviewUrl: `${approval.url.replace(/\/$/, '')}/apps/{namespace}/{name}/review`,
      webhookReceiverUrl: receiver.url,
      token: deps.auth.tokens[0]?.token ?? '',
      kubeconfig: target.kubeconfigPath,
      ...(target.controlUrl ? { sandboxControlUrl: target.controlUrl } : {}),
      clusters: target.clusters,
      gtm: {
        gtmVersion: gtm.gtmVersion,
        endpoint: gtm.endpoint,
        instanceId: gtm.instanceId,
        ...gtmKey,
        dns: gtm.dnsAddress,
        probeIntervalScale: gtm.probeIntervalScale,
      },
      clustersFile: resolve(options.clustersFile),
      bucket: { root: bucket.root, name: LOCAL_BUCKET },
      store: join(dir, RUN_STORE_FILE),
    };
    const endpointsFile = join(dir, 'endpoints.json');
    writeFileSync(endpointsFile, `${JSON.stringify(endpoints, null, 2)}\n`, { mode: 0o600 });
    stops.push(() => rmSync(endpointsFile, { force: true }));
    // Traffic may have been left half reconciled: the next tick is soon, this is sooner.
    if (folder.resumed) void invokeTraffic(timerEvent());

    return {
      endpoints,
      resumed: folder.resumed,
      endpointsFile,
      gtm,
      deps,
      queue,
      queueStats: localQueue.stats,
      ...(faults ? { faultStats: faults.stats } : {}),
      reconcileTraffic: () => invokeTraffic(timerEvent()),
      handlers: { 'bundle-ingest': ingest, 'deploy-step': deployStep, approval: approvalHandler, 'gtm-reconcile': gtmReconcile },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * The approval API on the port asked for; asked for any port, on the previous start's port when it
 * is free, so that a client that read endpoints.json before a restart keeps working.
 */
async function listenForApprovals(
  handler: FcHandler<HttpTriggerResponse>,
  asked: number,
  previous: number | undefined,
  logger: Logger,
): Promise<HttpTriggerServer> {
  if (asked === 0 && previous) {
    try {
      return await startHttpTrigger(handler, { functionName: 'approval', port: previous });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      logger.info('the approval API port of the previous start is taken: using another', { port: previous });
    }
  }
  return startHttpTrigger(handler, { functionName: 'approval', port: asked });
}

/** The receiver's channel, its recipients the twin's approver tokens as they are when a message goes (tests add some). */
function twinReceiverChannel(channel: Notifier, tokens: () => readonly ApproverToken[]): Notifier {
  return {
    name: channel.name,
    get recipients() {
      return tokens()
        .filter((t) => t.scope === 'approver')
        .map((t) => t.name);
    },
    send: (notification) => channel.send(notification),
  };
}
