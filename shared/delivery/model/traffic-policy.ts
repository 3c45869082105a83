import { z } from 'zod';
import { BundleError, issuePath, type SourceLocation } from '../../platform/errors.ts';
import { GTM3_PROBE_TIMEOUTS } from './gtm3-limits.ts';

/**
 * `TrafficPolicy` (tricenter.io/v1alpha1): how one application's domain is spread over its
 * clusters through GTM 2.0 (Alidns API 2015-01-09). Ranges follow the API facts in
 * docs/aliyun-api/alidns-gtm-2015-01-09.json (AddDnsGtmMonitor, AddDnsGtmAccessStrategy), so a
 * policy that validates here is never rejected by GTM for a value out of range.
 */
const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label (lower case letters, digits, -)')
  .max(63);

const hostname = z
  .string()
  .max(253)
  .regex(/^(?=.{1,253}$)([a-z0-9]([-a-z0-9]*[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/i, 'must be a fully qualified domain name');

const int = (min: number, max: number) => z.number().int().min(min).max(max);

/** Weight of a cluster's addresses inside a RATIO pool (GTM's `Addr.N.LbaWeight`; the console allows 1..100). */
const weight = int(1, 100);

const trafficPoolSchema = z.strictObject({
  name: dnsLabel,
  /** Cluster names or aliases from the cluster registry. Exactly one of `clusters` / `clusterLabelSelector`. */
  clusters: z.array(dnsLabel).min(1).optional(),
  /** Every registry cluster whose labels include all of these. */
  clusterLabelSelector: z.record(z.string(), z.string()).optional(),
  /** ALL_RR returns every healthy address; RATIO returns addresses by `weights`. */
  lbaStrategy: z.enum(['ALL_RR', 'RATIO']).default('ALL_RR'),
  /** RATIO only: weight per cluster (name as written in `clusters`, or the registry name); missing = 1. */
  weights: z.record(z.string(), weight).optional(),
  /**
   * May the pool hold no address? When false (the default) the reconciler never removes the last
   * address of the pool (it warns instead), and a selector that matches no cluster is an error.
   */
  allowEmpty: z.boolean().default(false),
});

const healthCheckSchema = z.strictObject({
  protocol: z.enum(['HTTP', 'HTTPS']).default('HTTP'),
  port: int(1, 65535),
  path: z.string().startsWith('/', 'must start with /').default('/'),
  /** Host header of the probe; default: the policy's domain. */
  host: hostname.optional(),
  /**
   * Sent as MonitorExtendInfo `code`; GTM documents 400 and 500 as its values and fails a probe
   * whose HTTP status is greater than it (400: a 404 fails; 500: a 503 fails).
   */
  failureCode: z.union([z.literal(400), z.literal(500)]).default(500),
  /** Seconds between probes: 15..60 (AddDnsGtmMonitor.Interval). */
  interval: int(15, 60),
  /** Consecutive failed probes before an address is unhealthy: 1..3 (AddDnsGtmMonitor.EvaluationCount). */
  evaluationCount: int(1, 3),
  /** Probe timeout in milliseconds: 1000..10000 (AddDnsGtmMonitor.Timeout). */
  timeout: int(1000, 10000),
});

const accessSchema = z.strictObject({
  /** Pool answered while at least `minAvailable` of its addresses are healthy. */
  primary: dnsLabel,
  /** Pool answered otherwise. */
  failover: dnsLabel.optional(),
  /** DefaultMinAvailableAddrNum: 1..400. */
  minAvailable: int(1, 400).default(1),
});

export const trafficPolicySchema = z
  .strictObject({
    apiVersion: z.literal('tricenter.io/v1alpha1'),
    kind: z.literal('TrafficPolicy'),
    metadata: z.looseObject({ name: dnsLabel, namespace: dnsLabel }),
    spec: z.strictObject({
      domain: hostname,
      /** The GTM instance that serves `domain`; default: the deployment's configured one. */
      gtmInstanceId: z.string().min(1).optional(),
      /**
       * The GTM version this policy is written for. Optional: the cluster registry says which version
       * each instance is (tenants[].gtm[].version); when given, it must agree or the bundle is refused.
       */
      gtmVersion: z.enum(['3.0', '2.0']).optional(),
      /** The Ingress whose status addresses feed the pools; namespace defaults to metadata.namespace. */
      ingress: z.strictObject({ name: z.string().min(1), namespace: dnsLabel.optional() }),
      /** Answer TTL in seconds (GTM instance-wide `Ttl`, 1..9999999). */
      ttl: int(1, 9999999),
      pools: z.array(trafficPoolSchema).min(1, 'at least one pool is required'),
      healthCheck: healthCheckSchema,
      access: accessSchema,
    }),
  })
  .superRefine((policy, ctx) => {
    const { pools, access } = policy.spec;
    const seen = new Map<string, number>();
    pools.forEach((pool, index) => {
      const path = ['spec', 'pools', index];
      const first = seen.get(pool.name);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [...path, 'name'],
          message: `pool name "${pool.name}" is already used by spec.pools[${first}]`,
        });
      } else seen.set(pool.name, index);
      const ways = Number(pool.clusters !== undefined) + Number(pool.clusterLabelSelector !== undefined);
      if (ways !== 1) {
        ctx.addIssue({ code: 'custom', path, message: 'a pool selects clusters by exactly one of `clusters` or `clusterLabelSelector`' });
      }
      if (pool.clusterLabelSelector !== undefined && Object.keys(pool.clusterLabelSelector).length === 0) {
        ctx.addIssue({
          code: 'custom',
          path: [...path, 'clusterLabelSelector'],
          message: 'an empty selector would match every cluster; list the labels',
        });
      }
      if (pool.weights !== undefined && pool.lbaStrategy !== 'RATIO') {
        ctx.addIssue({ code: 'custom', path: [...path, 'weights'], message: 'weights apply only to lbaStrategy RATIO' });
      }
      if (pool.weights !== undefined && pool.clusters !== undefined) {
        for (const key of Object.keys(pool.weights)) {
          if (!pool.clusters.includes(key)) {
            ctx.addIssue({ code: 'custom', path: [...path, 'weights', key], message: `"${key}" is not in this pool's clusters` });
          }
        }
      }
    });
    for (const role of ['primary', 'failover'] as const) {
      const poolName = access[role];
      if (poolName !== undefined && !seen.has(poolName)) {
        ctx.addIssue({ code: 'custom', path: ['spec', 'access', role], message: `pool "${poolName}" is not defined in spec.pools` });
      }
    }
    if (policy.spec.gtmVersion === '3.0' && !GTM3_PROBE_TIMEOUTS.includes(policy.spec.healthCheck.timeout)) {
      ctx.addIssue({
        code: 'custom',
        path: ['spec', 'healthCheck', 'timeout'],
        message: `GTM 3.0 health checks time out after ${GTM3_PROBE_TIMEOUTS.join(', ')} ms only`,
      });
    }
    if (access.failover !== undefined && access.failover === access.primary) {
      ctx.addIssue({
        code: 'custom',
        path: ['spec', 'access', 'failover'],
        message: 'the failover pool must differ from the primary pool',
      });
    }
  });

export type TrafficPolicy = z.infer<typeof trafficPolicySchema>;
export type TrafficPool = z.infer<typeof trafficPoolSchema>;

/** `spec.pools[1].clusters` style path of a zod issue, as the errors of the bundle parser name fields. */

/** Parses one TrafficPolicy document; the error names the file, the document and the first bad field. */
export function parseTrafficPolicy(doc: unknown, location: SourceLocation = {}): TrafficPolicy {
  const result = trafficPolicySchema.safeParse(doc);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue ? issuePath(issue.path) : undefined;
  const message = result.error.issues.map((i) => `${issuePath(i.path) || '(root)'}: ${i.message}`).join('; ');
  throw new BundleError(message, { ...location, ...(field ? { field } : {}) }, { code: 'VALIDATION' });
}
