import { describe, expect, it } from 'vitest';
import { authenticate, memoryReplayGuard, signRequest, type ApprovalAuthConfig, type AuthRequest } from '#shared/delivery/approval/auth.ts';

const NOW = 1_795_680_120_000;
const config: ApprovalAuthConfig = {
  tokens: [
    { name: 'alice', token: 'approver-token-0123456789', scope: 'approver' },
    { name: 'dashboard', token: 'viewer-token-0123456789', scope: 'viewer' },
  ],
  hmacSecret: 'shared-webhook-secret',
};
const body = JSON.stringify({ comment: 'ship it', by: 'ci-bot' });
const base: AuthRequest = { method: 'POST', path: '/apps/demo/web-demo/approve', headers: {}, body };

function signed(overrides: Partial<{ timestamp: number; secret: string; method: string; path: string; body: string }> = {}): AuthRequest {
  const timestamp = overrides.timestamp ?? NOW;
  const signature = signRequest(
    overrides.secret ?? 'shared-webhook-secret',
    timestamp,
    overrides.method ?? 'POST',
    overrides.path ?? base.path,
    overrides.body ?? body,
  );
  return { ...base, headers: { 'X-Tricenter-Timestamp': String(timestamp), 'X-Tricenter-Signature': signature } };
}

const guard = () => memoryReplayGuard(() => NOW);

describe('approval authentication', () => {
  it('accepts a named bearer token and records its name and scope', async () => {
    const principal = await authenticate({ ...base, headers: { authorization: 'Bearer approver-token-0123456789' } }, config, NOW, guard());
    expect(principal).toEqual({ name: 'alice', scheme: 'bearer', scope: 'approver' });
  });

  it('accepts a fresh signed request once, naming the signed actor', async () => {
    const principal = await authenticate(signed(), config, NOW + 1000, guard());
    expect(principal).toEqual({ name: 'ci-bot', scheme: 'hmac', scope: 'approver' });
  });

  it.each([
    ['missing credentials', { ...base }, /missing credentials/],
    ['wrong token', { ...base, headers: { Authorization: 'Bearer approver-token-012345678X' } }, /invalid bearer token/],
    ['malformed authorization', { ...base, headers: { Authorization: 'Basic YWxpY2U6c2VjcmV0' } }, /malformed Authorization/],
    ['signature with the wrong secret', signed({ secret: 'guessed' }), /invalid request signature/],
    [
      'signature of another path (approve replayed as reject)',
      { ...signed(), path: '/apps/demo/web-demo/reject' },
      /invalid request signature/,
    ],
    [
      'body changed after signing',
      { ...signed(), body: JSON.stringify({ comment: 'ship it', by: 'mallory' }) },
      /invalid request signature/,
    ],
    ['timestamp older than 5 minutes', signed({ timestamp: NOW - 5 * 60 * 1000 - 1 }), /outside the 300 s window/],
    ['timestamp from the future', signed({ timestamp: NOW + 5 * 60 * 1000 + 1 }), /outside the 300 s window/],
    ['timestamp missing', { ...base, headers: { 'X-Tricenter-Signature': 'v1=00' } }, /missing or malformed x-tricenter-timestamp/],
  ])('refuses %s with 401', async (_label, request, message) => {
    await expect(authenticate(request, config, NOW, guard())).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      message: expect.stringMatching(message),
    });
  });

  it('refuses a replay of an accepted signed request', async () => {
    const replay = guard();
    const request = signed();
    await authenticate(request, config, NOW, replay);
    await expect(authenticate(request, config, NOW + 2000, replay)).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      message: expect.stringMatching(/replayed/),
    });
  });

  it('refuses signed requests when no secret is configured', async () => {
    await expect(authenticate(signed(), { tokens: config.tokens }, NOW, guard())).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });
});
