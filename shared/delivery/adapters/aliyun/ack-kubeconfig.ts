import PopCore from '@alicloud/pop-core';
import * as z from 'zod/mini';
import { systemClock, type Clock } from '../../../platform/clock.ts';
import { TricenterError, errorMessage } from '../../../platform/errors.ts';
import { silentLogger, type Logger } from '../../../platform/log.ts';

/**
 * Fetches an ACK cluster's kubeconfig with Container Service `DescribeClusterUserKubeconfig`
 * (API 2015-12-15, ROA: GET /k8s/{ClusterId}/user_config) through @alicloud/pop-core's ROAClient,
 * with the function's credentials, and keeps it until shortly before its `expiration`.
 * Retryable failures (throttling, 5xx, transport, a garbled answer) are retried with jittered
 * exponential backoff inside a total time budget; a retry starts only if it can finish (request
 * timeout included) within the budget, so a cluster connection never eats a step's deadline.
 * Facts: docs/aliyun-api/cs-describe-cluster-user-kubeconfig.json.
 */

export interface AlibabaCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

interface AckKubeconfigRequest {
  clusterId: string;
  region: string;
  /** true = the kubeconfig's server is the cluster's internal (VPC) endpoint. */
  privateIpAddress?: boolean;
}

interface AckKubeconfig {
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
  /** One attempt (connect + answer). Default 8 s. */
  requestTimeoutMs?: number;
  /** Time one fetch may take, every attempt and backoff included. Default 20 s. */
  retryBudgetMs?: number;
  /** Backoff before retry n is drawn from [d/2, d], d = min(maxDelayMs, baseDelayMs * 2^(n-1)). Defaults 200 ms / 3 s. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Default setTimeout; with `clock`, what lets a simulation run the backoff without waiting. */
  sleep?: (ms: number) => Promise<void>;
  /** In [0, 1); draws the backoff jitter. Default Math.random. */
  random?: () => number;
}

interface RoaClient {
  request(
    method: string,
    path: string,
    query: Record<string, string | number | boolean>,
    body: string,
    headers: Record<string, string>,
    opts: Record<string, unknown>,
  ): Promise<unknown>;
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
    if (failure.name === 'FormatError')
      return new TricenterError('INTERNAL', `${what}: the answer is not JSON`, { cause: err, retryable: true });
    return new TricenterError('UNREACHABLE', `${what}: Container Service unreachable (${code || failure.name}: ${detail})`, {
      cause: err,
      retryable: true,
    });
  }
  if (status === 404) return new TricenterError('NOT_FOUND', `${what}: no such cluster (${code || 404})`, { cause: err });
  if (status === 401)
    return new TricenterError('UNAUTHORIZED', `${what}: credentials rejected (${code || 401}): ${detail}`, { cause: err });
  if (status === 403)
    return new TricenterError(
      'FORBIDDEN',
      `${what}: not allowed (${code || 403}); the role needs cs:DescribeClusterUserKubeconfig: ${detail}`,
      { cause: err },
    );
  if (status === 429 || code.startsWith('Throttling'))
    return new TricenterError('THROTTLED', `${what}: throttled (${code || status})`, { cause: err, retryable: true });
  if (status >= 500)
    return new TricenterError('INTERNAL', `${what}: Container Service failed (${status} ${code})`, { cause: err, retryable: true });
  return new TricenterError('VALIDATION', `${what}: rejected (${status} ${code}): ${detail}`, { cause: err });
}

export function createAckKubeconfigSource(options: AckKubeconfigOptions): AckKubeconfigSource {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const endpointOf = options.endpoint ?? ((region: string) => `https://cs.${region}.aliyuncs.com`);
  const durationMinutes = options.temporaryDurationMinutes ?? 60;
  const refreshBeforeMs = options.refreshBeforeMs ?? 5 * 60_000;
  const timeoutMs = options.requestTimeoutMs ?? 8_000;
  const budgetMs = options.retryBudgetMs ?? 20_000;
  const baseDelayMs = options.baseDelayMs ?? 200;
  const maxDelayMs = options.maxDelayMs ?? 3_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
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

  const attempt = async (request: AckKubeconfigRequest): Promise<AckKubeconfig> => {
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
      throw classifyAckError(err, request);
    }
    const parsed = responseSchema.safeParse(answer);
    if (!parsed.success) {
      throw new TricenterError(
        'INTERNAL',
        `DescribeClusterUserKubeconfig for ACK cluster ${request.clusterId}: unexpected response (expected JSON {config, expiration})`,
        {
          retryable: true,
        },
      );
    }
    const stated = parsed.data.expiration ? Date.parse(parsed.data.expiration) : Number.NaN;
    const expiresAt = Number.isFinite(stated) ? stated : startedAt + durationMinutes * 60_000;
    return { kubeconfig: parsed.data.config, expiresAt };
  };

  const fetchKubeconfig = async (request: AckKubeconfigRequest): Promise<AckKubeconfig> => {
    const deadline = clock.now() + budgetMs;
    for (let attempts = 1; ; attempts++) {
      try {
        const fetched = await attempt(request);
        logger.info('ack kubeconfig fetched', {
          clusterId: request.clusterId,
          region: request.region,
          expiresAt: fetched.expiresAt,
          attempts,
        });
        return fetched;
      } catch (err) {
        const failure = err as TricenterError;
        const delayMs = Math.round(Math.min(maxDelayMs, baseDelayMs * 2 ** (attempts - 1)) * (0.5 + random() / 2));
        const retry = failure.retryable && clock.now() + delayMs + timeoutMs <= deadline;
        logger.warn(retry ? 'ack kubeconfig fetch failed; retrying' : 'ack kubeconfig fetch failed', {
          clusterId: request.clusterId,
          region: request.region,
          code: failure.code,
          error: failure.message,
          attempts,
          ...(retry ? { delayMs } : {}),
        });
        if (!retry) {
          if (attempts === 1) throw failure;
          throw new TricenterError(failure.code, `${failure.message} (gave up after ${attempts} attempts within ${budgetMs} ms)`, {
            cause: failure,
            retryable: failure.retryable,
          });
        }
        await sleep(delayMs);
      }
    }
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
