import PopCore from '@alicloud/pop-core';
import * as z from 'zod/mini';
import { systemClock, type Clock } from '../../core/clock.ts';
import { TricenterError, errorMessage } from '../../core/errors.ts';
import { silentLogger, type Logger } from '../../core/log.ts';

/**
 * Fetches an ACK cluster's kubeconfig with Container Service `DescribeClusterUserKubeconfig`
 * (API 2015-12-15, ROA: GET /k8s/{ClusterId}/user_config) through @alicloud/pop-core's ROAClient,
 * with the function's credentials, and keeps it until shortly before its `expiration`.
 * Facts: docs/aliyun-api/cs-describe-cluster-user-kubeconfig.json.
 */

export interface AlibabaCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

export interface AckKubeconfigRequest {
  clusterId: string;
  region: string;
  /** true = the kubeconfig's server is the cluster's internal (VPC) endpoint. */
  privateIpAddress?: boolean;
}

export interface AckKubeconfig {
  /** kubeconfig YAML text. Holds credentials: never log it. */
  kubeconfig: string;
  /** Epoch ms after which the kubeconfig no longer works. */
  expiresAt: number;
}

export interface AckKubeconfigSource {
  get(request: AckKubeconfigRequest): Promise<AckKubeconfig>;
}

export interface AckKubeconfigOptions {
  /** Asked before every call, so rotating STS credentials (the FC context's) are always current. */
  credentials: () => AlibabaCredentials | Promise<AlibabaCredentials>;
  clock?: Clock;
  logger?: Logger;
  /** Default `https://cs.<region>.aliyuncs.com`. */
  endpoint?: (region: string) => string;
  /** Validity asked for (15..4320 minutes). Default 60. */
  temporaryDurationMinutes?: number;
  /** A cached kubeconfig is fetched again this long before it expires. Default 5 minutes. */
  refreshBeforeMs?: number;
  requestTimeoutMs?: number;
}

interface RoaClient {
  request(method: string, path: string, query: Record<string, string | number | boolean>, body: string, headers: Record<string, string>, opts: Record<string, unknown>): Promise<unknown>;
}
type RoaClientConstructor = new (config: {
  endpoint: string;
  apiVersion: string;
  credentialsProvider: { getCredentials(): Promise<AlibabaCredentials> };
  opts?: Record<string, unknown>;
}) => RoaClient;

// pop-core's typings describe only the RPC client; the ROA client hangs off the same export.
const ROAClient = (PopCore as unknown as { ROAClient: RoaClientConstructor }).ROAClient;

const API_VERSION = '2015-12-15';

const responseSchema = z.looseObject({
  config: z.string().check(z.minLength(1)),
  expiration: z.optional(z.string()),
});

function classifyAckError(err: unknown, request: AckKubeconfigRequest): TricenterError {
  const what = `DescribeClusterUserKubeconfig for ACK cluster ${request.clusterId} in ${request.region}`;
  const failure = err as { statusCode?: number; code?: string; name?: string };
  const status = failure.statusCode;
  const code = typeof failure.code === 'string' ? failure.code : '';
  const detail = errorMessage(err);
  if (status === undefined) {
    // pop-core parses a JSON body before it can fail without a status; any other failure without an
    // HTTP answer is transport (refused, reset, DNS, timeout): worth retrying.
    if (failure.name === 'FormatError') return new TricenterError('INTERNAL', `${what}: the answer is not JSON`, { cause: err, retryable: true });
    return new TricenterError('UNREACHABLE', `${what}: Container Service unreachable (${code || failure.name}: ${detail})`, { cause: err, retryable: true });
  }
  if (status === 404) return new TricenterError('NOT_FOUND', `${what}: no such cluster (${code || 404})`, { cause: err });
  if (status === 401) return new TricenterError('UNAUTHORIZED', `${what}: credentials rejected (${code || 401}): ${detail}`, { cause: err });
  if (status === 403) return new TricenterError('FORBIDDEN', `${what}: not allowed (${code || 403}); the role needs cs:DescribeClusterUserKubeconfig: ${detail}`, { cause: err });
  if (status === 429 || code.startsWith('Throttling')) return new TricenterError('THROTTLED', `${what}: throttled (${code || status})`, { cause: err, retryable: true });
  if (status >= 500) return new TricenterError('INTERNAL', `${what}: Container Service failed (${status} ${code})`, { cause: err, retryable: true });
  return new TricenterError('VALIDATION', `${what}: rejected (${status} ${code}): ${detail}`, { cause: err });
}

export function createAckKubeconfigSource(options: AckKubeconfigOptions): AckKubeconfigSource {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const endpointOf = options.endpoint ?? ((region: string) => `https://cs.${region}.aliyuncs.com`);
  const durationMinutes = options.temporaryDurationMinutes ?? 60;
  const refreshBeforeMs = options.refreshBeforeMs ?? 5 * 60_000;
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  const clients = new Map<string, RoaClient>();
  const cache = new Map<string, AckKubeconfig>();
  const inFlight = new Map<string, Promise<AckKubeconfig>>();

  const clientFor = (region: string): RoaClient => {
    let client = clients.get(region);
    if (!client) {
      client = new ROAClient({
        endpoint: endpointOf(region),
        apiVersion: API_VERSION,
        credentialsProvider: { getCredentials: async () => options.credentials() },
        opts: { timeout: timeoutMs },
      });
      clients.set(region, client);
    }
    return client;
  };

  const fetchKubeconfig = async (request: AckKubeconfigRequest): Promise<AckKubeconfig> => {
    const startedAt = clock.now();
    let answer: unknown;
    try {
      answer = await clientFor(request.region).request(
        'GET',
        `/k8s/${encodeURIComponent(request.clusterId)}/user_config`,
        { PrivateIpAddress: request.privateIpAddress ?? false, TemporaryDurationMinutes: durationMinutes },
        '',
        {},
        {},
      );
    } catch (err) {
      const classified = classifyAckError(err, request);
      logger.warn('ack kubeconfig fetch failed', { clusterId: request.clusterId, region: request.region, code: classified.code, error: classified.message });
      throw classified;
    }
    const parsed = responseSchema.safeParse(answer);
    if (!parsed.success) {
      throw new TricenterError('INTERNAL', `DescribeClusterUserKubeconfig for ACK cluster ${request.clusterId}: unexpected response (expected JSON {config, expiration})`, {
        retryable: true,
      });
    }
    const stated = parsed.data.expiration ? Date.parse(parsed.data.expiration) : Number.NaN;
    const expiresAt = Number.isFinite(stated) ? stated : startedAt + durationMinutes * 60_000;
    logger.info('ack kubeconfig fetched', { clusterId: request.clusterId, region: request.region, expiresAt });
    return { kubeconfig: parsed.data.config, expiresAt };
  };

  return {
    async get(request) {
      const key = `${request.region}/${request.clusterId}/${request.privateIpAddress ? 'private' : 'public'}`;
      const cached = cache.get(key);
      if (cached && clock.now() < cached.expiresAt - refreshBeforeMs) return cached;
      let pending = inFlight.get(key);
      if (!pending) {
        pending = fetchKubeconfig(request)
          .then((fresh) => {
            cache.set(key, fresh);
            return fresh;
          })
          .finally(() => inFlight.delete(key));
        inFlight.set(key, pending);
      }
      return pending;
    },
  };
}
