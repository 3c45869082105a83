import { describe, expect, it } from 'vitest';
import { bundleKey, parseBucketKey, tenantFolder } from '#shared/delivery/model/bucket-key.ts';

describe('bundle object keys', () => {
  it.each([
    ['bundles/demo/web-demo.tar.gz', 'demo', 'web-demo', 'tar.gz'],
    ['bundles/demo/web-demo.tgz', 'demo', 'web-demo', 'tgz'],
    ['bundles/demo/web-demo.zip', 'demo', 'web-demo', 'zip'],
    ['bundles/demo/web-demo.yaml', 'demo', 'web-demo', 'yaml'],
    ['bundles/demo/web-demo.yml', 'demo', 'web-demo', 'yml'],
    ['bundles/rt/a.yaml', 'rt', 'a', 'yaml'],
    ['bundles/0/9.zip', '0', '9', 'zip'],
    [`bundles/${'n'.repeat(63)}/${'a'.repeat(63)}.yaml`, 'n'.repeat(63), 'a'.repeat(63), 'yaml'],
  ])('accepts %s', (key, namespace, name, extension) => {
    expect(parseBucketKey(key)).toEqual({ ok: true, app: { namespace, name }, extension });
  });

  it.each([
    ['bundles/rt/sub/evil.yaml', /no sub-folder/],
    ['bundles/rt/web.YAML', /extension must be one of \.tar\.gz, \.tgz, \.zip, \.yaml, \.yml \(lower case\)/],
    ['bundles/rt/web.Yml', /extension must be one of/],
    ['bundles/rt/web.tar.GZ', /extension must be one of/],
    ['bundles/rt/web.json', /extension must be one of/],
    ['bundles/rt/web.yaml.', /extension must be one of/],
    ['bundles/rt/web', /extension must be one of/],
    ['bundles/rt/../demo/web-demo.yaml', /no sub-folder/],
    ['bundles/../web-demo.yaml', /namespace "\.\." is not a DNS-1123 label/],
    ['bundles/rt/..yaml', /application name "\." is not a DNS-1123 label/],
    ['bundles/rt/.yaml', /application name "" is empty/],
    ['bundles//web.yaml', /namespace "" is empty/],
    ['bundles/web.yaml', /no sub-folder \(found 0 folder level/],
    ['bundles/rt/web..yaml', /application name "web\." is not a DNS-1123 label/],
    ['bundles/rt/web.v2.yaml', /application name "web\.v2" is not a DNS-1123 label/],
    ['bundles/rt/w\u0435b.yaml', /application name "w\u0435b" has non-ASCII characters/],
    ['bundles/d\u0435mo/web-demo.yaml', /namespace "d\u0435mo" has non-ASCII characters/],
    ['bundles/rt/%2e%2e.yaml', /application name "%2e%2e" is not a DNS-1123 label/],
    ['bundles/rt%2Fsub/evil.yaml', /namespace "rt%2Fsub" is not a DNS-1123 label/],
    ['bundles/RT/web.yaml', /namespace "RT" is not a DNS-1123 label/],
    ['bundles/rt/-web.yaml', /application name "-web" is not a DNS-1123 label/],
    ['bundles/rt/web-.yaml', /application name "web-" is not a DNS-1123 label/],
    ['bundles/rt/web demo.yaml', /application name "web demo" is not a DNS-1123 label/],
    ['bundles/rt/web\u0000.yaml', /application name "web\\u0000" is not a DNS-1123 label/],
    ['bundles/rt/web\n.yaml', /application name "web\\n" is not a DNS-1123 label/],
    [`bundles/rt/${'a'.repeat(64)}.yaml`, /is 64 characters long, over the 63 of a DNS-1123 label/],
    [`bundles/${'n'.repeat(64)}/web.yaml`, /namespace "n+" is 64 characters long/],
    ['config/clusters.yaml', /must be uploaded under bundles\//],
    ['Bundles/rt/web.yaml', /must be uploaded under bundles\//],
    ['/bundles/rt/web.yaml', /must be uploaded under bundles\//],
  ])('refuses %j', (key, reason) => {
    const verdict = parseBucketKey(key);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) {
      expect(verdict.reason).toMatch(reason);
      // The key is quoted as JSON: a control character never reaches a terminal or a log line raw.
      expect(verdict.reason.startsWith(`object key ${JSON.stringify(key)}: `)).toBe(true);
    }
  });

  it('builds only keys it accepts', () => {
    expect(bundleKey({ namespace: 'demo', name: 'web-demo' }, 'tar.gz')).toBe('bundles/demo/web-demo.tar.gz');
    expect(() => bundleKey({ namespace: 'rt/sub', name: 'evil' }, 'yaml')).toThrow(/no sub-folder/);
    expect(() => bundleKey({ namespace: 'rt', name: 'Web' }, 'yaml')).toThrow(/not a DNS-1123 label/);
    expect(tenantFolder('rt')).toBe('bundles/rt/');
  });
});
