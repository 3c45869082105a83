import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions } from 'node:https';
import {
  HttpMethod,
  KubernetesObjectApi,
  ServerConfiguration,
  createConfiguration,
  type Configuration,
  type KubeConfig,
  type RequestContext,
  type V1APIResource,
} from '@kubernetes/client-node';
import { TricenterError } from '../../../platform/errors.ts';

/**
 * One client per cluster, built on the library's KubernetesObjectApi: we keep its configuration
 * (kubeconfig authentication, TLS) and its per-apiVersion discovery cache (`apiVersionResourceCache`,
 * filled by one GET of `/apis/<group>/<version>` and reused for every later object of that
 * apiVersion), and send the requests ourselves so that bodies go out exactly as rendered (the
 * library re-serialises known kinds through its typed models, which silently drops fields the API
 * server should judge) and so that we see the HTTP status (201 = created by server-side apply).
 */

export type KubeAction = 'discovery' | 'get' | 'list' | 'dry-run' | 'apply' | 'patch' | 'create' | 'delete';

export interface RawResponse {
  status: number;
  body: unknown;
}

export interface SendOptions {
  query?: Record<string, string>;
  body?: unknown;
  contentType?: string;
}

export const APPLY_PATCH = 'application/apply-patch+yaml';

/** Connections one client keeps to its API server; more requests than this queue on the agent. */
const MAX_SOCKETS_PER_CLUSTER = 16;
export const MERGE_PATCH = 'application/merge-patch+json';

/** Requests sent per action: the benchmark reports them, and tests check discovery is not repeated. */
export type RequestCounts = Record<KubeAction, number>;

export class ClusterClient extends KubernetesObjectApi {
  readonly counts: RequestCounts = { discovery: 0, get: 0, list: 0, 'dry-run': 0, apply: 0, patch: 0, create: 0, delete: 0 };
  /** Namespaces known to exist (created or seen by this client), so apply does not re-create them. */
  readonly knownNamespaces = new Set<string>();
  private readonly discoveryInFlight = new Map<string, Promise<unknown>>();
  private readonly agents: Array<HttpAgent>;

  constructor(configuration: Configuration, agents: Array<HttpAgent>) {
    super(configuration);
    this.agents = agents;
  }

  /** The namespace used for a namespaced object that names none (the context's, else `default`). */
  get contextNamespace(): string {
    return this.defaultNamespace;
  }

  useContextNamespace(kubeConfig: KubeConfig): void {
    this.setDefaultNamespace(kubeConfig);
  }

  /** What the API server says about `kind` in `apiVersion`, or undefined when it does not serve it. */
  async lookup(apiVersion: string, kind: string): Promise<V1APIResource | undefined> {
    try {
      return await this.resource(apiVersion, kind);
    } catch (err) {
      // A group/version the server does not serve answers 404: "not served", not an outage.
      if ((err as { code?: unknown }).code === 404) return undefined;
      throw err;
    }
  }

  /**
   * Concurrent lookups of one apiVersion share a single discovery request; the library's own cache
   * only helps once the first answer is in.
   */
  protected override async resource(apiVersion: string, kind: string, options?: Configuration): Promise<V1APIResource | undefined> {
    const known = this.apiVersionResourceCache[apiVersion]?.resources.find((r) => r.kind === kind);
    if (known) return known;
    let inFlight = this.discoveryInFlight.get(apiVersion);
    if (!inFlight) {
      this.counts.discovery += 1;
      inFlight = super.resource(apiVersion, kind, options).finally(() => this.discoveryInFlight.delete(apiVersion));
      this.discoveryInFlight.set(apiVersion, inFlight);
    }
    await inFlight;
    return this.apiVersionResourceCache[apiVersion]?.resources.find((r) => r.kind === kind);
  }

  /**
   * The URL path of an object (`read`) or of its collection (`list`; without a namespace, across all
   * namespaces). Built here rather than with the library's specUriPath, which lower-cases the whole
   * path, names included, so that an invalid name reaches the server as written and is judged there.
   */
  async pathOf(object: { apiVersion: string; kind: string; namespace?: string; name?: string }, action: 'read' | 'list'): Promise<string> {
    const resource = await this.resource(object.apiVersion, object.kind);
    if (!resource) throw new TricenterError('INVALID_OBJECT', `the API server does not serve kind ${object.kind} in ${object.apiVersion}`);
    const parts = [this.apiVersionPath(object.apiVersion)];
    const namespace = object.namespace ?? (action === 'read' ? this.defaultNamespace : undefined);
    if (resource.namespaced && namespace) parts.push('namespaces', encodeURIComponent(namespace));
    parts.push(resource.name);
    if (action === 'read') parts.push(encodeURIComponent(object.name ?? ''));
    return parts.join('/');
  }

  /** Sends one request with the kubeconfig's credentials, the timeout and the shared agent. */
  async send(
    action: KubeAction,
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    options: SendOptions = {},
  ): Promise<RawResponse> {
    this.counts[action] += 1;
    const context = this.configuration.baseServer.makeRequestContext(path, HttpMethod[method]);
    context.setHeaderParam('Accept', 'application/json');
    for (const [name, value] of Object.entries(options.query ?? {})) context.setQueryParam(name, value);
    if (options.body !== undefined) {
      context.setHeaderParam('Content-Type', options.contentType ?? 'application/json');
      context.setBody(JSON.stringify(options.body));
    }
    const auth = this.configuration.authMethods;
    await auth.BearerToken?.applySecurityAuthentication(context);
    await auth.default?.applySecurityAuthentication(context);
    let prepared: RequestContext = context;
    for (const middleware of this.configuration.middleware) prepared = await middleware.pre(prepared).toPromise();
    const response = await this.configuration.httpApi.send(prepared).toPromise();
    const text = await response.body.text();
    let body: unknown = text;
    if (text && (response.headers['content-type'] ?? '').includes('json')) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    return { status: response.httpStatusCode, body };
  }

  /** Closes the kept-alive connections. */
  close(): void {
    for (const agent of this.agents) agent.destroy();
  }
}

/**
 * Builds the client for a KubeConfig whose current context is the cluster. Every request, the
 * library's discovery included, first waits its turn (`throttle`: the cluster's rate limit), then
 * gets an explicit timeout; connections are kept alive on one agent per client, so per cluster (the
 * library makes a new agent, hence a new TLS handshake, for every request), at most
 * MAX_SOCKETS_PER_CLUSTER of them.
 */
export function createClusterClient(kubeConfig: KubeConfig, requestTimeoutMs: number, throttle?: () => Promise<void>): ClusterClient {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) {
    throw new TricenterError('VALIDATION', `kubeconfig context "${kubeConfig.getCurrentContext()}" has no cluster`);
  }
  const agents: HttpAgent[] = [];
  let sharedAgent: HttpAgent | undefined;
  const configuration = createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: kubeConfig },
    promiseMiddleware: [
      {
        pre: async (context: RequestContext) => {
          // The wait is not part of the request's time: the timeout starts once it may go.
          await throttle?.();
          context.setSignal(AbortSignal.timeout(requestTimeoutMs));
          const perRequest = context.getAgent();
          if (perRequest && (perRequest.constructor === HttpsAgent || perRequest.constructor === HttpAgent)) {
            if (!sharedAgent) {
              const tls = (perRequest as unknown as { options: AgentOptions }).options;
              const keepAlive = { ...tls, keepAlive: true, maxSockets: MAX_SOCKETS_PER_CLUSTER };
              sharedAgent = perRequest instanceof HttpsAgent ? new HttpsAgent(keepAlive) : new HttpAgent(keepAlive);
              agents.push(sharedAgent);
            }
            context.setAgent(sharedAgent);
          }
          return context;
        },
        post: async (response) => response,
      },
    ],
  });
  const client = new ClusterClient(configuration, agents);
  client.useContextNamespace(kubeConfig);
  return client;
}
