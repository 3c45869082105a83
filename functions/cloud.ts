import { randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import type { ApprovalAuthConfig, ReplayGuard } from '#shared/delivery/approval/auth.ts';
import { systemClock } from '#shared/platform/clock.ts';
import { createLogger, type Logger } from '#shared/platform/log.ts';
import type { ClusterRegistry } from '#shared/delivery/model/clusters.ts';
import type { FcContext } from '#shared/platform/triggers/fc.ts';
import type { ClusterGateway } from '#shared/delivery/ports/cluster-gateway.port.ts';
import type { BundleSource } from '#shared/delivery/ports/bundle-source.port.ts';
import type { RunStore } from '#shared/delivery/ports/run-store.port.ts';
import type { TrafficHistoryStore } from '#shared/traffic/ports/traffic-history.port.ts';
import type { TablestoreRunStore } from '#shared/delivery/adapters/aliyun/tablestore-run-store.ts';
import type { AckKubeconfigSource } from '#shared/delivery/adapters/aliyun/ack-kubeconfig.ts';
import { invocationCredentials, type InvocationCredentials } from '#shared/platform/credentials.ts';
import { OTS_NETWORKS, otsEndpoint } from '#shared/delivery/adapters/aliyun/ots-endpoint.ts';
import type { QueueMessage, TaskQueue } from '#shared/delivery/ports/task-queue.port.ts';
import { DEFAULT_HEALTH_WAIT, type StepFinishedMessage, type WorkflowDeps } from '#shared/delivery/usecases/deps.ts';
import { BucketReleaseObjectStore } from '#shared/delivery/adapters/bucket-release-objects.ts';
import { ReleaseManifests } from '#shared/delivery/usecases/release-manifests.ts';
import { lazyPort } from '#shared/platform/lazy-port.ts';
import { parseLinkTtl, parseNotifierConfig } from '#shared/delivery/adapters/notify/config.ts';
import type { AppRef } from '#shared/delivery/model/ownership.ts';
import type { ApprovalLinkStore } from '#shared/delivery/ports/approval-link-store.port.ts';
import type { NotificationOutbox } from '#shared/delivery/ports/notification-outbox.port.ts';

/**
 * The cloud composition every function shares: configuration from the environment (s.yaml sets
 * it), credentials from the invocation context, adapters built once per instance. Every cloud
 * adapter is a lazy port: its SDK loads on the first call that needs it, so a request loads only
 * the SDKs it uses (a 401 loads none, a status read only Tablestore's).
 */
const name = z.string().check(z.minLength(1));
const configSchema = z.object({
  TRICENTER_REGION: name,
  TRICENTER_BUCKET: z.string().check(z.minLength(3)),
  TRICENTER_CLUSTERS_KEY: z._default(name, 'config/clusters.yaml'),
  // s.yaml passes '' when unset: the endpoint is then derived from region and instance.
  TRICENTER_OTS_ENDPOINT: z._default(z.string(), ''),
  TRICENTER_OTS_NETWORK: z._default(z.enum(OTS_NETWORKS), 'public'),
  TRICENTER_OTS_INSTANCE: name,
  TRICENTER_OTS_TABLE_PREFIX: z._default(z.string(), 'tricenter_'),
  TRICENTER_DEPLOY_STEP_FUNCTION: z._default(name, 'tricenter-deploy-step'),
  TRICENTER_GTM_FUNCTION: z._default(name, 'tricenter-gtm-reconcile'),
  TRICENTER_GTM_INSTANCE_ID: z._default(z.string(), ''),
  TRICENTER_GTM_DRY_RUN: z._default(z.enum(['true', 'false']), 'false'),
  TRICENTER_APPROVAL_TOKENS: z._default(z.string(), ''),
  TRICENTER_APPROVAL_HMAC_SECRET: z._default(z.string(), ''),
  /** Chat robots and webhooks told about approvals (shared/delivery/adapters/notify/config.ts); empty: none. */
  TRICENTER_NOTIFIERS: z._default(z.string(), ''),
  /** The approval function's public URL, for the review page link in notifications. */
  TRICENTER_APPROVAL_URL: z._default(z.string(), ''),
  /** How long a one-time approval link lives (never beyond the step's approval timeout), e.g. 8h; '' is 24 h (parseLinkTtl). */
  TRICENTER_APPROVAL_LINK_TTL: z._default(z.string(), ''),
});
export type CloudConfig = z.infer<typeof configSchema> & { otsEndpoint: string; approvalLinkTtlMs?: number };

export function cloudConfig(env: NodeJS.ProcessEnv = process.env): CloudConfig {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) throw new Error(`function configuration (environment variables) is invalid: ${z.prettifyError(parsed.error)}`);
  const config = parsed.data;
  const approvalLinkTtlMs = parseLinkTtl(config.TRICENTER_APPROVAL_LINK_TTL);
  return {
    ...config,
    ...(approvalLinkTtlMs !== undefined ? { approvalLinkTtlMs } : {}),
    otsEndpoint: otsEndpoint({
      region: config.TRICENTER_REGION,
      instance: config.TRICENTER_OTS_INSTANCE,
      network: config.TRICENTER_OTS_NETWORK,
      override: config.TRICENTER_OTS_ENDPOINT,
    }),
  };
}

/** `name:scope:token,name:scope:token` (scope: approver or viewer). */
export function parseApprovalTokens(value: string): ApprovalAuthConfig['tokens'] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      // name:scope:token, then optionally :group+group (approval policies' group:<name>) and :principalId+principalId (OSS uploads).
      const [name, scope, token, groups, ossPrincipals, extra] = entry.split(':');
      if (!name || (scope !== 'approver' && scope !== 'viewer') || !token || token.length < 16 || extra !== undefined) {
        throw new Error(
          'TRICENTER_APPROVAL_TOKENS: each entry is name:approver|viewer:token[:group+group[:ossPrincipalId+ossPrincipalId]] with a token of at least 16 characters',
        );
      }
      const list = (value: string | undefined) => (value ?? '').split('+').filter(Boolean);
      return {
        name,
        scope,
        token,
        ...(list(groups).length > 0 ? { groups: list(groups) } : {}),
        ...(list(ossPrincipals).length > 0 ? { ossPrincipals: list(ossPrincipals) } : {}),
      };
    });
}

export interface CloudBase {
  config: CloudConfig;
  credentials: InvocationCredentials;
  logger: Logger;
  store: RunStore;
  bundles: BundleSource;
  /** Release manifests in the bucket, with this instance's cache of packs. */
  manifests: ReleaseManifests;
  registry: () => Promise<ClusterRegistry>;
  gateway: ClusterGateway;
  /** The traffic reconciler's memory: its own Tablestore table beside the run store's. */
  trafficHistory: TrafficHistoryStore;
}

let base: Promise<CloudBase> | undefined;

/** Adapters for this instance; `context` hands over the invocation's STS keys first. */
export async function cloudBase(context: FcContext): Promise<CloudBase> {
  base ??= buildBase().catch((err: unknown) => {
    base = undefined;
    throw err;
  });
  const built = await base;
  built.credentials.refresh(context);
  return built;
}

async function buildBase(): Promise<CloudBase> {
  const config = cloudConfig();
  const credentials = invocationCredentials();
  const logger = createLogger();
  const bundles = lazyPort<BundleSource>(async () =>
    (await import('#shared/delivery/adapters/aliyun/oss-bundle-source.ts')).createOssBundleSource({
      region: config.TRICENTER_REGION,
      credentials: credentials.provider,
      internal: true,
      logger,
    }),
  );
  // One Tablestore adapter serves both the run store and the traffic history (a table of its own).
  let tablestore: Promise<TablestoreRunStore> | undefined;
  const loadTablestore = () =>
    (tablestore ??= import('#shared/delivery/adapters/aliyun/tablestore-run-store.ts').then(
      ({ createTablestoreRunStore }) => createTablestoreRunStore(otsOptions({ config, credentials, logger })),
      (err: unknown) => {
        tablestore = undefined;
        throw err;
      },
    ));
  const store = lazyPort<RunStore>(loadTablestore);
  const trafficHistory = lazyPort<TrafficHistoryStore>(async () => (await loadTablestore()).trafficHistory);
  const registry = cachedRegistry(bundles, config);
  const manifests = new ReleaseManifests(new BucketReleaseObjectStore(bundles, config.TRICENTER_BUCKET));
  return {
    config,
    credentials,
    logger,
    store,
    bundles,
    manifests,
    registry,
    gateway: lazyPort<ClusterGateway>(() => kubeGateway(registry, credentials, logger)),
    trafficHistory,
  };
}

/** The cluster registry lives in the bucket beside the bundles; re-read at most once a minute. */
function cachedRegistry(bundles: BundleSource, config: CloudConfig): () => Promise<ClusterRegistry> {
  let cached: { at: number; registry: ClusterRegistry } | undefined;
  return async () => {
    if (cached && systemClock.now() - cached.at < 60_000) return cached.registry;
    const [{ loadBundleBytes }, { parseClusterRegistry }] = await Promise.all([
      import('#shared/delivery/bundle/load.ts'),
      import('#shared/delivery/model/clusters.ts'),
    ]);
    const object = await bundles.get(config.TRICENTER_BUCKET, config.TRICENTER_CLUSTERS_KEY, { maxBytes: 1024 * 1024 });
    const registry = parseClusterRegistry(await loadBundleBytes(config.TRICENTER_CLUSTERS_KEY, object.data));
    cached = { at: systemClock.now(), registry };
    return registry;
  };
}

/** The ClusterGateway over @kubernetes/client-node, with ACK kubeconfigs: loaded when a cluster is first talked to. */
async function kubeGateway(
  registry: () => Promise<ClusterRegistry>,
  credentials: InvocationCredentials,
  logger: Logger,
): Promise<ClusterGateway> {
  const [{ createKubeGateway }, { createClusterConnections }] = await Promise.all([
    import('#shared/delivery/adapters/kube/gateway.ts'),
    import('#shared/delivery/adapters/kube/connections.ts'),
  ]);
  // pop-core (ACK's ROA client) loads only when a registry entry names an ACK cluster.
  const ack = lazyPort<AckKubeconfigSource>(async () =>
    (await import('#shared/delivery/adapters/aliyun/ack-kubeconfig.ts')).createAckKubeconfigSource({
      credentials: () => credentials.provider(),
      logger,
    }),
  );
  return createKubeGateway({ connections: createClusterConnections({ clusters: (await registry()).clusters, ack, logger }), logger });
}

/**
 * A queue whose messages are async invocations of `functionName` (deploy tasks, step-finished and
 * traffic shards, drift shards): the FC client loads on the first message sent.
 */
export function fcQueueTo<T extends QueueMessage>(b: CloudBase, context: FcContext, functionName: string): TaskQueue<T> {
  return lazyPort<TaskQueue<T>>(async () =>
    (await import('#shared/delivery/adapters/aliyun/fc-task-queue.ts')).createFcTaskQueue<T>({
      region: b.config.TRICENTER_REGION,
      accountId: context.accountId ?? '',
      functionName,
      credentials: b.credentials.provider,
      logger: b.logger,
    }),
  );
}

/** The workflow's dependencies in the cloud: tasks go out as async invocations of deploy-step. */
export async function cloudWorkflowDeps(context: FcContext): Promise<WorkflowDeps> {
  const b = await cloudBase(context);
  const queueTo = <T extends QueueMessage>(functionName: string): TaskQueue<T> => fcQueueTo<T>(b, context, functionName);
  const deps: WorkflowDeps = {
    store: b.store,
    queue: queueTo(b.config.TRICENTER_DEPLOY_STEP_FUNCTION),
    gateway: b.gateway,
    bundles: b.bundles,
    manifests: b.manifests,
    registry: b.registry,
    clock: systemClock,
    logger: b.logger,
    newId: () => `run-${systemClock.now().toString(36)}-${randomUUID().slice(0, 6)}`,
    healthWait: DEFAULT_HEALTH_WAIT,
    ...(b.config.TRICENTER_GTM_INSTANCE_ID ? { gtmDefaultInstanceId: b.config.TRICENTER_GTM_INSTANCE_ID } : {}),
    // Traffic follows a finished step within seconds: gtm-reconcile is invoked for that app at once.
    trafficQueue: queueTo<StepFinishedMessage>(b.config.TRICENTER_GTM_FUNCTION),
  };
  return { ...deps, ...cloudNotifications(b, deps) };
}

function cloudNotifications(b: CloudBase, deps: WorkflowDeps): Pick<WorkflowDeps, 'notifications'> {
  const tokens = parseApprovalTokens(b.config.TRICENTER_APPROVAL_TOKENS);
  // A channel's recipients are checked against the approval token configuration.
  const parsed = parseNotifierConfig(b.config.TRICENTER_NOTIFIERS, () => systemClock.now(), tokens);
  if (parsed.length === 0) return {};
  const base = b.config.TRICENTER_APPROVAL_URL.replace(/\/$/, '');
  // What a channel did not take goes out again from the deploy-step timer (usecases/redeliver-notifications.ts).
  const outbox = { store: cloudNotificationOutbox(b), now: () => systemClock.now() };
  if (!base) return { notifications: { notifiers: parsed, outbox } };
  const ttlMs = b.config.approvalLinkTtlMs;
  return {
    notifications: {
      notifiers: parsed,
      outbox,
      reviewLink: (app: AppRef) => `${base}/apps/${app.namespace}/${app.name}/review`,
      // One-time links for the approvers the step's policy allows (shared/delivery/usecases/notify.ts).
      links: {
        store: cloudApprovalLinks(b),
        tokens: () => tokens,
        url: (token) => `${base}/links/${token}`,
        // The review model loads only when a step waits for approval (cold starts).
        preview: async (app, step) => (await import('#shared/delivery/approval/links.ts')).stepPreviewOf(deps, app, step),
        now: () => systemClock.now(),
        ...(ttlMs !== undefined ? { ttlMs } : {}),
      },
    },
  };
}

/** The instance, table prefix, endpoint and credentials every Tablestore adapter of a function uses. */
function otsOptions(b: Pick<CloudBase, 'config' | 'credentials' | 'logger'>) {
  return {
    region: b.config.TRICENTER_REGION,
    instance: b.config.TRICENTER_OTS_INSTANCE,
    tablePrefix: b.config.TRICENTER_OTS_TABLE_PREFIX,
    credentials: b.credentials.provider,
    endpoint: b.config.otsEndpoint,
    logger: b.logger,
  };
}

let approvalLinks: ApprovalLinkStore | undefined;

/** One-time approval links in their own Tablestore table (`<prefix>approval_links`); the SDK loads on first use. */
export function cloudApprovalLinks(b: CloudBase): ApprovalLinkStore {
  approvalLinks ??= lazyPort<ApprovalLinkStore>(async () =>
    (await import('#shared/delivery/adapters/aliyun/tablestore-approval-links.ts')).createTablestoreApprovalLinks(otsOptions(b)),
  );
  return approvalLinks;
}

let notificationOutbox: NotificationOutbox | undefined;

/** Messages to send again, in their own Tablestore table (`<prefix>notification_outbox`); the SDK loads on first use. */
function cloudNotificationOutbox(b: CloudBase): NotificationOutbox {
  notificationOutbox ??= lazyPort<NotificationOutbox>(async () =>
    (await import('#shared/delivery/adapters/aliyun/tablestore-notification-outbox.ts')).createTablestoreNotificationOutbox(otsOptions(b)),
  );
  return notificationOutbox;
}

/** Signed approval requests are remembered in the run store's idempotency table, shared by every instance. */
export function storeReplayGuard(store: RunStore, bucket: string): ReplayGuard {
  return {
    async firstUse(id, expiresAt) {
      const claim = await store.claimIngest(
        { bucket: `${bucket}#approval-signatures`, key: id, etag: String(expiresAt) },
        systemClock.now(),
      );
      return claim.claimed;
    },
  };
}
