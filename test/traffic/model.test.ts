import { describe, expect, it } from 'vitest';
import { BundleError } from '#shared/platform/errors.ts';
import { parseTrafficPolicy, trafficPolicySchema } from '#shared/delivery/model/traffic-policy.ts';
import { seedPolicy } from './fixtures.ts';

/** The seed policy with one edit applied to its spec. */
function withSpec(edit: (spec: Record<string, any>) => void): unknown {
  const doc = structuredClone(seedPolicy()) as unknown as { spec: Record<string, any> };
  edit(doc.spec);
  return doc;
}

describe('trafficPolicySchema', () => {
  it('accepts the seed policy and fills the defaults', () => {
    const policy = seedPolicy();
    expect(policy.spec.pools.map((p) => [p.name, p.lbaStrategy, p.allowEmpty])).toEqual([
      ['pool-beijing', 'ALL_RR', false],
      ['pool-hangzhou', 'ALL_RR', false],
    ]);
    expect(policy.spec.access).toEqual({ primary: 'pool-beijing', failover: 'pool-hangzhou', minAvailable: 1 });
    expect(trafficPolicySchema.safeParse(policy).success).toBe(true);
  });

  it.each([
    [
      'an access pool that does not exist',
      (s: any) => (s.access.failover = 'pool-shanghai'),
      'spec.access.failover',
      'pool "pool-shanghai" is not defined',
    ],
    ['duplicate pool names', (s: any) => (s.pools[1].name = 'pool-beijing'), 'spec.pools[1].name', 'already used by spec.pools[0]'],
    ['both ways of selecting clusters', (s: any) => (s.pools[0].clusters = ['cluster1-beijing']), 'spec.pools[0]', 'exactly one of'],
    ['no way of selecting clusters', (s: any) => delete s.pools[1].clusters, 'spec.pools[1]', 'exactly one of'],
    ['an interval below GTM range', (s: any) => (s.healthCheck.interval = 5), 'spec.healthCheck.interval', '>=15'],
    ['an evaluation count above GTM range', (s: any) => (s.healthCheck.evaluationCount = 4), 'spec.healthCheck.evaluationCount', '<=3'],
    ['a timeout below GTM range', (s: any) => (s.healthCheck.timeout = 500), 'spec.healthCheck.timeout', '>=1000'],
    ['a failure code GTM does not know', (s: any) => (s.healthCheck.failureCode = 404), 'spec.healthCheck.failureCode', ''],
    [
      'weights on an ALL_RR pool',
      (s: any) => (s.pools[1].weights = { 'cluster1-hangzhou': 2 }),
      'spec.pools[1].weights',
      'only to lbaStrategy RATIO',
    ],
    [
      'a weight for a cluster outside the pool',
      (s: any) => Object.assign(s.pools[1], { lbaStrategy: 'RATIO', weights: { 'cluster1-beijing': 2 } }),
      'spec.pools[1].weights.cluster1-beijing',
      'not in this pool',
    ],
    ['failover equal to primary', (s: any) => (s.access.failover = 'pool-beijing'), 'spec.access.failover', 'must differ'],
    ['a minAvailable above GTM range', (s: any) => (s.access.minAvailable = 401), 'spec.access.minAvailable', '<=400'],
    ['an unknown field', (s: any) => (s.pool = []), 'spec', 'pool'],
  ])('rejects %s and names the field', (_label, edit, field, text) => {
    let error: unknown;
    try {
      parseTrafficPolicy(withSpec(edit), { file: 'traffic.yaml', document: 0 });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(BundleError);
    const bundleError = error as BundleError;
    expect(bundleError.location?.field).toBe(field);
    expect(bundleError.message).toContain(`traffic.yaml (document 1) field ${field}: `);
    expect(bundleError.message).toContain(text);
  });
});
