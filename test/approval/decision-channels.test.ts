import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ApiClient, packBundle } from '#cli/client.ts';
import { register } from '#cli/commands/app.ts';
import { formatStatus } from '#cli/status-view.ts';
import type { LocalTwin } from '#local/twin.ts';
import { FolderBucket } from '#shared/delivery/adapters/local/folder-bucket.ts';
import type { AppStatus } from '#shared/delivery/usecases/status.ts';
import type { Decision } from '#shared/delivery/workflow/run.ts';
import { bumpVersion, variantOfWebDemo } from '../e2e/bundles.ts';
import { startTestTwin, waitFor, WEB_DEMO } from '../e2e/helpers.ts';
import { postForm } from './form-post.ts';

/**
 * Decisions through every channel of the twin's approval function (API, CLI, review page), for
 * the two things a decision must get right besides the policy:
 * - who decides: a token whose `ossPrincipals` include the principal that wrote the release to the
 *   bucket directly (the twin's watcher reports `local`) is that release's uploader on the API and
 *   on the page alike: 403, and each refusal audited in the run;
 * - which step: with two sub-steps of a step-group waiting, a decision that does not name its step
 *   is 409 listing both, on the API and on the page; named (API `step`, `tricenter approve --step`,
 *   the page's one form per step) it decides that step and no other.
 * Every decision, refused or not, is in the append-only record with who, when, channel, source,
 * digest, policy version and comment, and `tricenter runs` prints it.
 */
const GATE_ONE = 'deploy-cluster2-beijing';
const GATE_TWO = 'deploy-cluster1-hangzhou';
const OSSIE = { name: 'ossie', token: 'ossie-token-0123456789abcdef', scope: 'approver' as const, ossPrincipals: ['local'] };
const CAROL = { name: 'carol', token: 'carol-token-0123456789abcdef', scope: 'approver' as const };

/** The demo with an approval policy on its gate: no self-approval applies. */
const withPolicy = (text: string) =>
  text.replace('auto: false # manual review before deploying cluster2-beijing', 'auto: false\n      approval: {required: 1}');

/** The demo's last two steps as a step-group of two approval gates, waiting at once. */
const twoGates = (text: string) =>
  text
    .replace(
      / {2}- type: deploy\n {4}name: deploy-cluster2-beijing\n[\s\S]*?"cluster1-hangzhou"\]\n/,
      `  - type: step-group
    name: regions
    subSteps:
      - type: deploy
        name: ${GATE_ONE}
        properties:
          auto: false
          policies: ["override-env-cluster2-beijing", "cluster2-beijing"]
      - type: deploy
        name: ${GATE_TWO}
        properties:
          auto: false
          policies: ["override-env-cluster1-hangzhou", "override-replic-cluster1-hangzhou", "override-configmap-cluster1-hangzhou", "cluster1-hangzhou"]
`,
    )
    .replace('app.oam.dev/publishVersion: version8', 'app.oam.dev/publishVersion: version9');

describe('decisions through the API, the CLI and the review page', () => {
  let twin: LocalTwin;
  let operator: ApiClient;
  let cleanup: () => Promise<void>;
  let base: string;
  let page: string;
  let origin: string;

  beforeAll(async () => {
    ({ twin, client: operator, cleanup } = await startTestTwin());
    twin.deps.auth.tokens.push({ ...OSSIE }, { ...CAROL });
    base = twin.endpoints.approvalUrl.replace(/\/$/, '');
    origin = new URL(base).origin;
    page = `${base}/apps/${WEB_DEMO.namespace}/${WEB_DEMO.name}/review`;
  }, 60_000);
  afterAll(async () => cleanup?.());

  const api = (action: string, token: string, body: object = {}) =>
    fetch(`${base}/apps/demo/web-demo/${action}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  const post = (url: string, form: Record<string, string>, headers: Record<string, string> = {}) => postForm(origin, url, form, headers);

  async function signIn(token: string): Promise<string> {
    const res = await post(`${page}/session`, { token });
    expect(res.status).toBe(303);
    return (res.headers.get('set-cookie') ?? '').split(';')[0] as string;
  }

  /** The page as an approver sees it: the CSRF token and, per decision form, its step and digest. */
  async function view(cookie: string): Promise<{ html: string; csrf: string; forms: Array<{ step: string; digest: string }> }> {
    const res = await fetch(page, { headers: { cookie } });
    expect(res.status).toBe(200);
    const html = await res.text();
    const forms = [...html.matchAll(/<form class="decide"[\s\S]*?<\/form>/g)].map(([form]) => ({
      step: /name="step" value="([^"]+)"/.exec(form)?.[1] ?? '',
      digest: /name="digest" value="([^"]+)"/.exec(form)?.[1] ?? '',
    }));
    return { html, csrf: /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '', forms };
  }

  const waitingSteps = (s: AppStatus) => s.steps.filter((step) => step.awaiting === 'approval').map((step) => step.name);

  async function runCli(args: string[]): Promise<string> {
    const program = new Command().exitOverride().configureOutput({ writeErr: () => {} });
    register(program);
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => {
      lines.push(parts.map(String).join(' '));
    });
    try {
      await program.parseAsync([...args, '--endpoint', base, '--token', twin.endpoints.token], { from: 'user' });
    } finally {
      log.mockRestore();
    }
    return lines.join('\n');
  }

  describe('who decides: the OSS uploader is refused on every channel', () => {
    let runId: string;

    beforeAll(async () => {
      const packed = await packBundle(variantOfWebDemo({ 'app.yaml': withPolicy }));
      // Written to the bucket directly, as with an OSS key: no API token is recorded for these bytes.
      await new FolderBucket(twin.endpoints.bucket.root).put(twin.endpoints.bucket.name, 'bundles/demo/web-demo.tar.gz', packed.data);
      const waiting = await waitFor(
        () => operator.status(WEB_DEMO),
        (s) => waitingSteps(s).length === 1,
        30_000,
        'the approval gate',
      );
      runId = String(waiting.runId);
    }, 60_000);

    it("records the bucket writer's principal as the uploader", async () => {
      expect((await twin.deps.store.getRun(runId))?.uploadedBy).toBe('oss:local');
    });

    it('refuses the token whose ossPrincipals include it, on the API and on the page (403), auditing both', async () => {
      const refusedApi = await api('approve', OSSIE.token, { comment: 'mine, fine' });
      expect(refusedApi.status).toBe(403);
      expect(await refusedApi.text()).toContain('ossie uploaded this release and may not approve it (no self-approval)');

      const cookie = await signIn(OSSIE.token);
      const { csrf, forms } = await view(cookie);
      expect(forms.map((f) => f.step)).toEqual([GATE_ONE]);
      const refusedPage = await post(`${page}/decision`, { csrf, action: 'approve', ...(forms[0] as object), comment: 'mine' }, { cookie });
      expect(refusedPage.status).toBe(403);
      expect(await refusedPage.text()).toContain('ossie uploaded this release and may not approve it (no self-approval)');

      const status = await operator.status(WEB_DEMO);
      expect(waitingSteps(status)).toEqual([GATE_ONE]);
      expect(status.decisions).toEqual([
        expect.objectContaining({
          kind: 'approve',
          by: 'ossie',
          step: GATE_ONE,
          outcome: 'refused',
          comment: 'mine, fine',
          audit: { channel: 'api', source: '127.0.0.1' },
        }),
        expect.objectContaining({
          kind: 'approve',
          by: 'ossie',
          step: GATE_ONE,
          outcome: 'refused',
          comment: 'mine',
          audit: {
            channel: 'page',
            source: '127.0.0.1',
            digest: forms[0]?.digest,
            policyVersion: expect.stringMatching(/^sha256:[0-9a-f]{16}$/),
          },
        }),
      ]);
    });

    it('lets another approver through; `tricenter runs` prints every decision with its audit', async () => {
      expect(await runCli(['approve', 'demo/web-demo', '--comment', 'operator checked'])).toMatch(/^approve: run \S+ is runningWorkflow/);
      const text = await runCli(['runs', 'demo/web-demo']);
      const decisions = text.slice(text.indexOf('DECISIONS'));
      const line = /^ {2}(\S+) {2}(\S+) {2}(.*)$/;
      const parsed = decisions
        .split('\n')
        .slice(1)
        .map((l) => line.exec(l)?.slice(1) ?? [l]);
      expect(parsed.map(([id]) => id)).toEqual([runId, runId, runId]);
      for (const [, at] of parsed) expect(Number.isNaN(Date.parse(String(at)))).toBe(false);
      expect(parsed.map(([, , rest]) => rest)).toEqual([
        `approve (refused) by ossie on ${GATE_ONE} via api from 127.0.0.1: "mine, fine"`,
        expect.stringMatching(
          new RegExp(
            `^approve \\(refused\\) by ossie on ${GATE_ONE} via page from 127\\.0\\.0\\.1 digest [0-9a-f]{12} policy sha256:[0-9a-f]{16}: "mine"$`,
          ),
        ),
        `approve by local-operator on ${GATE_ONE} via cli from 127.0.0.1: "operator checked"`,
      ]);
      await waitFor(
        () => operator.status(WEB_DEMO),
        (s) => s.phase === 'running',
        30_000,
        'the run to finish',
      );
    }, 40_000);
  });

  describe('which step: two sub-steps of a step-group wait at once', () => {
    let runId: string;
    const record = async (): Promise<Decision[]> => (await twin.deps.store.getRun(runId))?.decisions ?? [];

    beforeAll(async () => {
      const packed = await packBundle(variantOfWebDemo({ 'app.yaml': twoGates }));
      await operator.upload(packed.app, packed);
      const waiting = await waitFor(
        () => operator.status(WEB_DEMO),
        (s) => s.publishVersion === 'version9' && waitingSteps(s).length === 2,
        30_000,
        'both gates waiting',
      );
      runId = String(waiting.runId);
    }, 60_000);

    it('the API refuses a decision without a step with 409 listing both, an unknown step with 409, a step on terminate with 400', async () => {
      const cases: Array<[string, Response, number, string]> = [
        ['approve, no step', await api('approve', CAROL.token), 409, `several steps ("${GATE_ONE}", "${GATE_TWO}"); name the step`],
        [
          'reject, no step',
          await api('reject', CAROL.token, { comment: 'no' }),
          409,
          `several steps ("${GATE_ONE}", "${GATE_TWO}"); name the step`,
        ],
        [
          'unknown step',
          await api('approve', CAROL.token, { step: 'deploy-mars' }),
          409,
          `step "deploy-mars" is not waiting for a decision`,
        ],
        ['empty step', await api('approve', CAROL.token, { step: '' }), 400, 'step'],
        ['step on terminate', await api('terminate', CAROL.token, { step: GATE_ONE }), 400, 'terminate acts on the whole run'],
      ];
      for (const [what, res, status, says] of cases) {
        expect([what, res.status]).toEqual([what, status]);
        expect(((await res.json()) as { message: string }).message).toContain(says);
      }
      const status = await operator.status(WEB_DEMO);
      expect(waitingSteps(status)).toEqual([GATE_ONE, GATE_TWO]);
      expect(formatStatus(status, page)).toContain(`review ${GATE_ONE}, ${GATE_TWO}: ${page}`);
      expect(await record()).toEqual([]);
    });

    it('the page shows one form per waiting step; a form without its step or with the other step’s digest decides nothing', async () => {
      const cookie = await signIn(CAROL.token);
      const { html, csrf, forms } = await view(cookie);
      expect(forms.map((f) => f.step)).toEqual([GATE_ONE, GATE_TWO]);
      expect(forms[0]?.digest).toMatch(/^[0-9a-f]{64}$/);
      expect(forms[0]?.digest).not.toBe(forms[1]?.digest);
      for (const step of [GATE_ONE, GATE_TWO]) expect(html).toContain(`data-step="${step}"`);
      const [one, two] = forms as [{ step: string; digest: string }, { step: string; digest: string }];
      const cases: Array<[string, Response, string]> = [
        [
          'no step',
          await post(`${page}/decision`, { csrf, action: 'approve', digest: one.digest }, { cookie }),
          'several steps wait for a decision',
        ],
        [
          'the other step’s digest',
          await post(`${page}/decision`, { csrf, action: 'approve', step: two.step, digest: one.digest }, { cookie }),
          'has changed since',
        ],
        [
          'a step not waiting',
          await post(`${page}/decision`, { csrf, action: 'approve', step: 'deploy-cluster1-beijing', digest: one.digest }, { cookie }),
          'no longer waits',
        ],
      ];
      for (const [what, res, says] of cases) {
        expect([what, res.status]).toEqual([what, 409]);
        expect(await res.text()).toContain(says);
      }
      expect(await record()).toEqual([]);
    });

    it('the page decides the step its form belongs to, and only it', async () => {
      const cookie = await signIn(CAROL.token);
      const { csrf, forms } = await view(cookie);
      const two = forms.find((f) => f.step === GATE_TWO) as { step: string; digest: string };
      const res = await post(`${page}/decision`, { csrf, action: 'approve', ...two, comment: 'hangzhou diff reviewed' }, { cookie });
      expect(res.status).toBe(303);
      const status = await waitFor(
        () => operator.status(WEB_DEMO),
        (s) => waitingSteps(s).length === 1,
        20_000,
        'one gate left',
      );
      expect(waitingSteps(status)).toEqual([GATE_ONE]);
      expect(status.steps.find((s) => s.name === GATE_TWO)?.phase).not.toBe('suspended');
      expect(await record()).toEqual([
        expect.objectContaining({
          kind: 'approve',
          by: 'carol',
          step: GATE_TWO,
          comment: 'hangzhou diff reviewed',
          audit: {
            channel: 'page',
            source: '127.0.0.1',
            digest: two.digest,
            policyVersion: expect.stringMatching(/^sha256:[0-9a-f]{16}$/),
          },
        }),
      ]);
    });

    it('`tricenter approve --step` decides the named step; `tricenter runs` shows both decisions of the run', async () => {
      expect(await runCli(['approve', 'demo/web-demo', '--step', GATE_ONE, '--comment', 'beijing too'])).toMatch(
        new RegExp(`^approve of step ${GATE_ONE}: run ${runId} is \\w+ \\(by local-operator\\)$`),
      );
      await waitFor(
        () => operator.status(WEB_DEMO),
        (s) => s.phase === 'running',
        30_000,
        'the run to finish',
      );
      expect((await record()).map((d) => [d.by, d.step, d.audit?.channel])).toEqual([
        ['carol', GATE_TWO, 'page'],
        ['local-operator', GATE_ONE, 'cli'],
      ]);
      const text = await runCli(['runs', 'demo/web-demo']);
      expect(text).toContain(`${runId}  `);
      expect(text).toMatch(
        new RegExp(
          `approve by carol on ${GATE_TWO} via page from 127\\.0\\.0\\.1 digest [0-9a-f]{12} policy sha256:[0-9a-f]{16}: "hangzhou diff reviewed"`,
        ),
      );
      expect(text).toContain(`approve by local-operator on ${GATE_ONE} via cli from 127.0.0.1: "beijing too"`);
    }, 40_000);

    it('`tricenter rollback` is the first decision of the run it starts; the waiting run it supersedes records it as its terminate, audited alike', async () => {
      const packed = await packBundle(variantOfWebDemo({ 'app.yaml': bumpVersion('version10') }));
      await operator.upload(packed.app, packed);
      const waiting = await waitFor(
        () => operator.status(WEB_DEMO),
        (s) => s.publishVersion === 'version10' && s.phase === 'workflowSuspending',
        30_000,
        'version10 at its gate',
      );
      expect(await runCli(['rollback', 'demo/web-demo', '--comment', 'back to version9'])).toMatch(
        /^rollback: run \S+ is \w+ \(by local-operator\)$/,
      );
      const status = await operator.status(WEB_DEMO);
      expect(status.publishVersion).toBe('version9');
      const audit = { channel: 'cli', source: '127.0.0.1' };
      expect(status.decisions).toEqual([
        expect.objectContaining({ kind: 'rollback', by: 'local-operator', comment: 'back to version9', audit }),
      ]);
      const superseded = await twin.deps.store.getRun(String(waiting.runId));
      expect(superseded?.phase).toBe('workflowTerminated');
      expect(superseded?.decisions).toEqual([expect.objectContaining({ kind: 'terminate', by: 'local-operator', audit })]);
      const text = await runCli(['runs', 'demo/web-demo']);
      expect(text).toContain(
        `${String(status.runId)}  ${new Date(status.decisions[0]?.at ?? 0).toISOString()}  rollback by local-operator via cli from 127.0.0.1: "back to version9"`,
      );
      expect(text).toMatch(
        new RegExp(
          `${String(waiting.runId)}  \\S+  terminate by local-operator on ${GATE_ONE} via cli from 127\\.0\\.0\\.1: "superseded by run ${String(status.runId)} \\(rollback to publishVersion version9`,
        ),
      );
      await waitFor(
        () => operator.status(WEB_DEMO),
        (s) => s.phase === 'workflowSuspending' || s.phase === 'running',
        20_000,
        'the rollback run to settle',
      );
    }, 60_000);

    it('`tricenter terminate` takes no --step (it acts on the whole run)', async () => {
      await expect(runCli(['terminate', 'demo/web-demo', '--step', GATE_ONE])).rejects.toThrow(/unknown option '--step'/);
    });
  });
});
