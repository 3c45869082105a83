import { describe, expect, it } from 'vitest';
import {
  authenticate,
  memoryReplayGuard,
  principalOf,
  signRequest,
  type ApprovalAuthConfig,
  type Principal,
} from '#shared/delivery/approval/auth.ts';
import { deciderOf } from '#shared/delivery/approval/decisions.ts';
import { issueSession, readSession, SESSION_COOKIE } from '#shared/delivery/approval/session.ts';

/**
 * One identity set per person, whatever the channel: the API's bearer header, the review page's
 * session cookie and a signed (HMAC) request naming them all hand the decider the same name,
 * groups and `oss:` identities, so "no self-approval" of an OSS upload holds on every one of them.
 */
const NOW = 1_795_680_120_000;
const ALICE = {
  name: 'alice',
  token: 'alice-token-0123456789abcdef',
  scope: 'approver' as const,
  groups: ['ops'],
  ossPrincipals: ['2718', '3141'],
};
const config: ApprovalAuthConfig = {
  tokens: [ALICE, { name: 'bob', token: 'bob-token-0123456789abcdef', scope: 'approver' }],
  hmacSecret: 'shared-webhook-secret',
};
const ALICE_DECIDES = { by: 'alice', groups: ['ops'], identities: ['oss:2718', 'oss:3141'] };

const bearer = (token: string): Promise<Principal> =>
  authenticate(
    { method: 'POST', path: '/apps/demo/web-demo/approve', headers: { authorization: `Bearer ${token}` }, body: '' },
    config,
    NOW,
    memoryReplayGuard(() => NOW),
  );

function session(token = ALICE): Principal | undefined {
  const issued = issueSession(token, NOW);
  return readSession(`${SESSION_COOKIE}=${issued.value}`, config, NOW + 1000)?.principal;
}

async function signedBy(by: string): Promise<Principal> {
  const body = JSON.stringify({ by });
  const path = '/apps/demo/web-demo/approve';
  const headers = {
    'x-tricenter-timestamp': String(NOW),
    'x-tricenter-signature': signRequest('shared-webhook-secret', NOW, 'POST', path, body),
  };
  return authenticate(
    { method: 'POST', path, headers, body },
    config,
    NOW,
    memoryReplayGuard(() => NOW),
  );
}

describe("the decider's identities, by channel", () => {
  it('the API, the page and principalOf give alice the same name, groups and OSS identities', async () => {
    expect(deciderOf(await bearer(ALICE.token))).toEqual(ALICE_DECIDES);
    expect(deciderOf(session() as Principal)).toEqual(ALICE_DECIDES);
    expect(deciderOf(principalOf(ALICE))).toEqual(ALICE_DECIDES);
  });

  it('a token without groups or principals decides with its name alone (no empty lists)', async () => {
    expect(deciderOf(await bearer('bob-token-0123456789abcdef'))).toEqual({ by: 'bob' });
  });

  it('the page reads the configuration as it is now: a principal added after sign-in counts at once', () => {
    const before = issueSession(ALICE, NOW);
    const later: ApprovalAuthConfig = { tokens: [{ ...ALICE, ossPrincipals: [...ALICE.ossPrincipals, '1618'] }] };
    const principal = readSession(`${SESSION_COOKIE}=${before.value}`, later, NOW + 1000)?.principal;
    expect(principal?.identities).toEqual(['oss:2718', 'oss:3141', 'oss:1618']);
  });

  it('a signed request naming alice carries her uploads (they only refuse) but not her groups (they would grant)', async () => {
    const principal = await signedBy('alice');
    expect(principal).toEqual({ name: 'alice', scheme: 'hmac', scope: 'approver', identities: ['oss:2718', 'oss:3141'] });
    expect(await signedBy('ci-bot')).toEqual({ name: 'ci-bot', scheme: 'hmac', scope: 'approver' });
  });

  it('the copy handed to the decider shares nothing with the principal', async () => {
    const principal = await bearer(ALICE.token);
    const decider = deciderOf(principal);
    decider.identities?.pop();
    expect(principal.identities).toEqual(['oss:2718', 'oss:3141']);
    expect(ALICE.ossPrincipals).toEqual(['2718', '3141']);
  });
});
