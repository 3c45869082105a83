import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * docs/ram/tricenter-fc-policy.json, the functions' RAM policy the README has the operator create:
 * valid once the README's variables are substituted, and in step with the API actions the adapters call.
 */
const template = readFileSync('docs/ram/tricenter-fc-policy.json', 'utf8');
const substituted = template.replace(
  /\$\{(TRICENTER_[A-Z_]+)\}/g,
  (_m, name: string) =>
    ({ TRICENTER_BUCKET: 'my-bundles', TRICENTER_REGION: 'cn-hangzhou', TRICENTER_OTS_INSTANCE: 'tricenter' })[name] ?? `<unknown ${name}>`,
);
const policy = JSON.parse(substituted) as { Statement: Array<{ Effect: string; Action: string[]; Resource: string[] }> };
const actions = (service: string) =>
  policy.Statement.flatMap((s) => s.Action)
    .filter((a) => a.startsWith(`${service}:`))
    .map((a) => a.slice(service.length + 1));
const called = (file: string, pattern: RegExp) => [...new Set([...readFileSync(file, 'utf8').matchAll(pattern)].map((m) => m[1]))].sort();

describe('RAM policy of the functions', () => {
  it('uses only the variables the README exports', () => {
    expect(substituted).not.toContain('<unknown');
    expect(policy.Statement.every((s) => s.Effect === 'Allow')).toBe(true);
  });

  it('allows every Alidns GTM action the adapters call (2.0 and 3.0), and no other', () => {
    expect(actions('alidns').sort()).toEqual(
      [
        ...called('shared/traffic/adapters/aliyun/alidns-gtm.ts', /'((?:Describe|Add|Update|Set|Delete)DnsGtm\w+)'/g),
        ...called('shared/traffic/adapters/aliyun/alidns-cloudgtm.ts', /'((?:List|Describe|Create|Update|Replace|Delete)CloudGtm\w+)'/g),
      ].sort(),
    );
  });

  it('allows the ACK kubeconfig call and scopes the store to the instance', () => {
    expect(actions('cs')).toEqual(['DescribeClusterUserKubeconfig']);
    expect(policy.Statement.find((s) => s.Action.includes('ots:PutRow'))?.Resource).toEqual([
      'acs:ots:cn-hangzhou:*:instance/tricenter/table/tricenter_*',
    ]);
    expect(actions('ots')).not.toContain('CreateTable');
  });
});
