import { describe, expect, it } from 'vitest';
import { otsEndpoint } from '#shared/delivery/adapters/aliyun/ots-endpoint.ts';
import { setupTarget } from '#cli/commands/setup.ts';
import { cloudConfig } from '#functions/cloud.ts';

/** The Tablestore endpoint: one derivation for the functions and `tricenter setup`. */
const base = { TRICENTER_REGION: 'cn-beijing', TRICENTER_BUCKET: 'bundles', TRICENTER_OTS_INSTANCE: 'runs-prod' };

describe('Tablestore endpoint', () => {
  it.each([
    [{ region: 'cn-hangzhou', instance: 'tricenter' }, 'https://tricenter.cn-hangzhou.ots.aliyuncs.com'],
    [
      { region: 'ap-southeast-1', instance: 'Runs-01', network: 'vpc' as const },
      'https://Runs-01.ap-southeast-1.vpc.tablestore.aliyuncs.com',
    ],
    [{ region: 'cn-hangzhou', instance: 'tricenter', override: 'http://127.0.0.1:9999/' }, 'http://127.0.0.1:9999'],
  ])('%j -> %s', (input, expected) => {
    expect(otsEndpoint(input)).toBe(expected);
  });

  it('is the same for the functions and setup, with or without an override', () => {
    expect(cloudConfig(base).otsEndpoint).toBe(setupTarget({}, base).endpoint);
    expect(cloudConfig({ ...base, TRICENTER_OTS_ENDPOINT: '' }).otsEndpoint).toBe('https://runs-prod.cn-beijing.ots.aliyuncs.com');
    const override = { ...base, TRICENTER_OTS_ENDPOINT: 'https://runs-prod.cn-beijing.vpc.tablestore.aliyuncs.com' };
    expect(cloudConfig(override).otsEndpoint).toBe(setupTarget({}, override).endpoint);
    expect(setupTarget({ endpoint: 'https://other.example:8443', instance: 'x-y-z' }, base).endpoint).toBe('https://other.example:8443');
  });

  it.each([
    [
      'an instance that would change the host',
      { region: 'cn-hangzhou', instance: 'evil.com/x' },
      /TRICENTER_OTS_INSTANCE "evil.com\/x" is not a Tablestore instance name/,
    ],
    ['an instance with a user part', { region: 'cn-hangzhou', instance: 'a@evil' }, /TRICENTER_OTS_INSTANCE/],
    ['a too long instance', { region: 'cn-hangzhou', instance: 'a'.repeat(17) }, /TRICENTER_OTS_INSTANCE/],
    ['a region with a dot', { region: 'evil.com', instance: 'tricenter' }, /TRICENTER_REGION "evil.com" is not a region id/],
    [
      'an override with credentials',
      { region: 'cn-hangzhou', instance: 'tricenter', override: 'https://ak:sk@host.example' },
      /must be a bare origin/,
    ],
    [
      'an override with a path',
      { region: 'cn-hangzhou', instance: 'tricenter', override: 'https://host.example/steal' },
      /must be a bare origin/,
    ],
    ['an override that is no URL', { region: 'cn-hangzhou', instance: 'tricenter', override: 'tricenter.cn-hangzhou' }, /is not a URL/],
    [
      'an override of another scheme',
      { region: 'cn-hangzhou', instance: 'tricenter', override: 'file:///etc/passwd' },
      /is not an http\(s\) URL/,
    ],
  ])('refuses %s', (_label, input, message) => {
    expect(() => otsEndpoint(input)).toThrow(message);
  });

  it('refuses a bad network choice in the functions and in setup, naming it', () => {
    expect(() => cloudConfig({ ...base, TRICENTER_OTS_NETWORK: 'internet' })).toThrow(/TRICENTER_OTS_NETWORK/);
    expect(() => setupTarget({ network: 'internet' as never }, base)).toThrow(/--network "internet" is not one of public, vpc/);
  });
});
