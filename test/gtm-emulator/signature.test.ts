import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  canonicalizedQueryString,
  computeRpcSignature,
  percentEncode,
  signString,
  signatureMatches,
  stringToSign,
} from '#sandbox/gtm/signature.ts';

const facts = JSON.parse(readFileSync(new URL('../../docs/aliyun-api/alidns-gtm-2015-01-09.json', import.meta.url), 'utf8')) as {
  common: {
    signature: {
      percentEncode: { examples: Record<string, string> };
      testVector: { accessKeySecret: string; httpMethod: string; params: Record<string, string>; signature: string };
      testVectorPost: { accessKeySecret: string; stringToSign: string; signature: string };
    };
  };
};
const { signature } = facts.common;

describe('RPC signature (facts file test vectors)', () => {
  it.each(Object.entries(signature.percentEncode.examples))('percent-encodes %j as %s', (raw, encoded) => {
    expect(percentEncode(raw)).toBe(encoded);
  });

  it('reproduces the captured GET signature', () => {
    const vector = signature.testVector;
    expect(computeRpcSignature(vector.httpMethod, vector.params, vector.accessKeySecret)).toBe(vector.signature);
  });

  it('ignores a Signature param when signing', () => {
    const vector = signature.testVector;
    const withSignature = { ...vector.params, Signature: 'whatever' };
    expect(computeRpcSignature('GET', withSignature, vector.accessKeySecret)).toBe(vector.signature);
  });

  it('reproduces the captured POST string to sign and signature (STS token, repeat lists, special characters)', () => {
    const vector = signature.testVectorPost;
    // Rebuild the params from the string to sign, then sign them again from scratch.
    const canonical = decodeURIComponent(vector.stringToSign.slice('POST&%2F&'.length));
    const params = Object.fromEntries(canonical.split('&').map((pair) => pair.split('=').map(decodeURIComponent) as [string, string]));
    expect(params.StrategyName).toBe("name with space+plus*star~tilde!bang'quote(paren)/slash 中文");
    expect(stringToSign('POST', params)).toBe(vector.stringToSign);
    expect(signString(vector.stringToSign, vector.accessKeySecret)).toBe(vector.signature);
  });

  it('sorts by code point, so upper case and "." come before lower case', () => {
    expect(canonicalizedQueryString({ b: '1', B: '2', 'A.1': '3', A: '4' })).toBe('A=4&A.1=3&B=2&b=1');
  });

  it('a changed value, a changed method or a secret without "&" do not match', () => {
    const vector = signature.testVector;
    expect(computeRpcSignature('GET', { ...vector.params, Ttl: '61' }, vector.accessKeySecret)).not.toBe(vector.signature);
    expect(computeRpcSignature('POST', vector.params, vector.accessKeySecret)).not.toBe(vector.signature);
    expect(computeRpcSignature('GET', vector.params, vector.accessKeySecret.slice(0, -1))).not.toBe(vector.signature);
    expect(signatureMatches(vector.signature, vector.signature)).toBe(true);
    expect(signatureMatches(vector.signature, vector.signature.slice(1))).toBe(false);
  });
});
