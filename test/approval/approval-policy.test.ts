import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, packBundle } from '#cli/client.ts';
import type { LocalTwin } from '#local/twin.ts';
import { variantOfWebDemo } from '../e2e/bundles.ts';
import { startTestTwin, waitFor, waitForPhase, WEB_DEMO } from '../e2e/helpers.ts';

/**
 * An approval policy through the whole path: the bundle's `properties.approval` (2 of: the ops group
 * or bob, at least one of ops), the uploader recorded at upload (the API token's name), and the
 * decisions use case answering 403 for the uploader and for someone not listed, each refusal
 * recorded in the run's decisions (the audit the review page and `tricenter runs` read).
 */
describe('approval policy through the API', () => {
  let twin: LocalTwin;
  let uploader: ApiClient;
  let cleanup: () => Promise<void>;
  const as = (name: string) => new ApiClient({ endpoint: twin.endpoints.approvalUrl, token: `${name}-token-0123456789abcdef` });

  beforeAll(async () => {
    ({ twin, client: uploader, cleanup } = await startTestTwin());
    const tokens = twin.deps.auth.tokens;
    tokens.push({ name: 'alice', token: 'alice-token-0123456789abcdef', scope: 'approver', groups: ['ops'] });
    tokens.push({ name: 'bob', token: 'bob-token-0123456789abcdef', scope: 'approver', groups: ['dev'] });
    tokens.push({ name: 'mallory', token: 'mallory-token-0123456789abcdef', scope: 'approver', groups: ['dev'] });
    const bundle = variantOfWebDemo({
      'app.yaml': (text) =>
        text.replace(
          'auto: false # manual review before deploying cluster2-beijing',
          'auto: false\n      approval: {approvers: ["group:ops", bob], required: 2, perGroup: {ops: 1}}',
        ),
    });
    const packed = await packBundle(bundle);
    await uploader.upload(packed.app, packed);
    await waitForPhase(uploader, 'workflowSuspending');
  });
  afterAll(async () => cleanup?.());

  const refusalOf = async (client: ApiClient): Promise<string> => {
    try {
      await client.decide(WEB_DEMO, 'approve', 'looks fine');
    } catch (err) {
      return String(err);
    }
    throw new Error('expected the approval to be refused');
  };

  it('records the uploader (the API token) on the run', async () => {
    const { runs } = await uploader.runs(WEB_DEMO);
    const run = await twin.deps.store.getRun(String(runs[0]?.id));
    expect(run?.uploadedBy).toBe('token:local-operator');
  });

  it('answers a refused decision retried with the same Idempotency-Key with 403 again, recorded once; a reject needs a comment', async () => {
    const post = (action: string, body: object, key: string) =>
      fetch(`${twin.endpoints.approvalUrl.replace(/\/$/, '')}/apps/demo/web-demo/${action}`, {
        method: 'POST',
        headers: { authorization: 'Bearer mallory-token-0123456789abcdef', 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify(body),
      });
    expect((await post('approve', {}, 'retry-key-1')).status).toBe(403);
    expect((await post('approve', {}, 'retry-key-1')).status).toBe(403);
    const noComment = await post('reject', {}, 'reject-key-1');
    expect(noComment.status).toBe(409);
    expect(await noComment.text()).toMatch(/needs a comment/);
    const { decisions } = await uploader.status(WEB_DEMO);
    expect(decisions.filter((d) => d.id === 'retry-key-1')).toHaveLength(1);
    // Not part of what the next test counts.
    expect(decisions.map((d) => d.by)).toEqual(['mallory']);
  });

  it('refuses the uploader and an unlisted approver with 403, auditing both, and counts only allowed approvals', async () => {
    expect(await refusalOf(uploader)).toMatch(/403.*local-operator uploaded this release and may not approve it/s);
    expect(await refusalOf(as('mallory'))).toMatch(/403.*mallory is not an approver of step "deploy-cluster2-beijing"/s);
    await as('bob').decide(WEB_DEMO, 'approve', 'canary metrics fine');
    expect(await refusalOf(as('bob'))).toMatch(/409.*bob has already approved/s);
    const waiting = await uploader.status(WEB_DEMO);
    expect(waiting.phase).toBe('workflowSuspending');
    expect(waiting.decisions.map((d) => [d.by, d.outcome])).toEqual([
      ['mallory', 'refused'],
      ['local-operator', 'refused'],
      ['mallory', 'refused'],
      ['bob', 'counted'],
    ]);
    await as('alice').decide(WEB_DEMO, 'approve', 'ops agrees');
    await waitFor(
      () => uploader.status(WEB_DEMO),
      (s) => s.phase !== 'workflowSuspending',
      20_000,
      'the step to continue after the second approval',
    );
    const after = await uploader.status(WEB_DEMO);
    expect(after.decisions.at(-1)).toMatchObject({ by: 'alice', kind: 'approve', groups: ['ops'] });
    expect(after.decisions.at(-1)?.outcome).toBeUndefined();
  });
});
