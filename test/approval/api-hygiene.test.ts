import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FC_HTTP_TRIGGER_MAX_BODY_BYTES, MAX_BUNDLE_UPLOAD_BYTES } from '#shared/delivery/approval/limits.ts';
import type { HttpTriggerEvent, HttpTriggerResponse } from '#shared/platform/triggers/http.ts';
import type { AppRef } from '#shared/delivery/model/ownership.ts';
import { createRun } from '#shared/delivery/workflow/decider.ts';
import { createApprovalHandler } from '#functions/approval/handler.ts';
import { packBundle, type ApiClient } from '#cli/client.ts';
import { describeIngest } from '#cli/commands/app.ts';
import { LOCAL_BUCKET, type LocalTwin } from '#local/twin.ts';
import { bumpVersion, variantOfWebDemo } from '../e2e/bundles.ts';
import { startTestTwin, waitFor, waitForPhase, WEB_DEMO } from '../e2e/helpers.ts';
import { packTarGz } from '../e2e/pack.ts';

/**
 * API and CLI hygiene, each case with its abuse: the refusal (status and message) and proof that
 * nothing changed (the run, its decisions, the run history, the bucket). Requests go through the
 * handler with events built from events/ samples, and through the twin's HTTP trigger where the
 * HTTP layer itself is the point (a malformed URI, a body over a limit).
 */
const sample = (name: string) => JSON.parse(readFileSync(`events/${name}`, 'utf8')) as HttpTriggerEvent;
const runCli = promisify(execFile);
const OTHER_APP: AppRef = { namespace: 'demo', name: 'other' };

describe('approval API hygiene', () => {
  let twin: LocalTwin;
  let client: ApiClient;
  let cleanup: () => Promise<void>;
  let handler: ReturnType<typeof createApprovalHandler>;
  let token: string;
  let url: string;

  beforeAll(async () => {
    ({ twin, client, cleanup } = await startTestTwin());
    token = twin.endpoints.token;
    url = twin.endpoints.approvalUrl;
    handler = createApprovalHandler(async () => twin.deps);
    const packed = await packBundle('examples/web-demo');
    await client.upload(packed.app, packed);
    await waitForPhase(client, 'workflowSuspending');
    // A second application with a run of its own, for keys reused across applications.
    const other = createRun(
      {
        id: 'run-other',
        releaseId: 'demo/other/v1',
        plan: {
          app: OTHER_APP,
          publishVersion: 'v1',
          contentHash: 'sha256:other',
          steps: [{ name: 'gate', type: 'suspend', timeoutMs: 600_000 }],
        },
      },
      twin.deps.clock.now(),
    );
    await twin.deps.store.createRun(other);
    await twin.deps.store.saveApp({ app: OTHER_APP, currentRunId: other.id, updatedAt: 0, version: 0 }, null);
  }, 60_000);
  afterAll(async () => cleanup?.());

  const invoke = async (event: HttpTriggerEvent): Promise<{ status: number; body: Record<string, unknown> }> => {
    const response: HttpTriggerResponse = await handler(Buffer.from(JSON.stringify(event)), {
      requestId: `req-${randomBytes(4).toString('hex')}`,
    });
    return { status: response.statusCode, body: JSON.parse(response.body) as Record<string, unknown> };
  };
  const decision = (action: string, body: string, headers: Record<string, string> = {}, app: AppRef = WEB_DEMO): HttpTriggerEvent => {
    const path = `/apps/${app.namespace}/${app.name}/${action}`;
    const base = sample('http-approve.json');
    return {
      ...base,
      rawPath: path,
      body,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...headers },
      requestContext: { ...base.requestContext, http: { ...base.requestContext.http, method: 'POST', path } },
    };
  };
  const http = (method: string, path: string, body?: Uint8Array | string, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...headers }, ...(body !== undefined ? { body } : {}) });

  /** Everything a refused request must leave as it was. */
  const snapshot = async () => {
    const status = await client.status(WEB_DEMO);
    const other = await twin.deps.store.getRun('run-other');
    return {
      phase: status.phase,
      runId: status.runId,
      decisions: status.decisions,
      runs: (await client.runs(WEB_DEMO)).runs.map((r) => `${String(r.id)}:${String(r.phase)}`),
      other: { phase: other?.phase, decisions: other?.decisions, version: other?.version },
      bucket: (await twin.deps.bundles.list(LOCAL_BUCKET, { prefix: 'bundles/' })).map((o) => `${o.key}@${o.etag}`),
    };
  };
  const expectRefused = async (
    response: { status: number; body: Record<string, unknown> },
    status: number,
    message: RegExp,
    before: Awaited<ReturnType<typeof snapshot>>,
  ) => {
    expect(response.status).toBe(status);
    expect(String(response.body.message)).toMatch(message);
    expect(await snapshot()).toEqual(before);
  };

  describe('malformed requests get 400 with a clear message', () => {
    it('malformed JSON', async () => {
      const before = await snapshot();
      await expectRefused(await invoke(decision('approve', '{"comment": "ok"')), 400, /^the request body is not valid JSON: /, before);
    });

    it('a content type other than JSON for a decision', async () => {
      const before = await snapshot();
      await expectRefused(
        await invoke(decision('approve', '{"comment":"ok"}', { 'Content-Type': 'text/plain' })),
        400,
        /content-type "text\/plain" is not accepted for a decision: send application\/json/,
        before,
      );
      const viaHttp = await http('POST', '/apps/demo/web-demo/approve', 'comment=ok', {
        'content-type': 'application/x-www-form-urlencoded',
      });
      expect(viaHttp.status).toBe(400);
      expect(await snapshot()).toEqual(before);
    });

    it('a malformed URI, in the handler and through the HTTP trigger (never a 502)', async () => {
      const before = await snapshot();
      const event = decision('approve', '{}');
      await expectRefused(
        await invoke({ ...event, rawPath: '/apps/demo/web-demo%zz/approve' }),
        400,
        /malformed URI: the path segment "web-demo%zz" is not valid percent-encoding/,
        before,
      );
      for (const path of ['/apps/demo/%zz', '/apps/demo/web-demo/approve%E0%A4%A']) {
        const response = await http('POST', path, '{}', { 'content-type': 'application/json' });
        expect(response.status).toBe(400);
        expect(((await response.json()) as { message: string }).message).toMatch(/^malformed URI/);
      }
      expect(await snapshot()).toEqual(before);
    });

    it('a request target that is no URI at all gets 400 from the trigger, not a 502', async () => {
      const before = await snapshot();
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const target = new URL(url);
        const req = request(
          {
            host: target.hostname,
            port: target.port,
            method: 'GET',
            path: 'http://%zz/apps/demo/web-demo',
            headers: { authorization: `Bearer ${token}` },
          },
          (res) => {
            let body = '';
            res
              .setEncoding('utf8')
              .on('data', (chunk: string) => (body += chunk))
              .on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject).end();
      });
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body)).toEqual({ error: 'InvalidArgument', message: 'malformed URI: the request target cannot be parsed' });
      expect(await snapshot()).toEqual(before);
    });

    it('an encoded slash stays inside its segment: no route, not another application', async () => {
      const before = await snapshot();
      const response = await http('POST', '/apps/demo%2Fweb-demo/x/approve', '{}', { 'content-type': 'application/json' });
      expect(response.status).toBe(404);
      expect(await snapshot()).toEqual(before);
    });
  });

  describe('bodies over a limit get 413 naming it', () => {
    it('a decision body over 64 KiB', async () => {
      const before = await snapshot();
      const body = JSON.stringify({ comment: 'x'.repeat(70_000) });
      await expectRefused(
        await invoke(decision('approve', body)),
        413,
        new RegExp(`^the request body is ${body.length} bytes: exceeds the limit of 64 KiB for a decision$`),
        before,
      );
    });

    it('a bundle over the upload limit (10 MiB), through the HTTP trigger: nothing reaches the bucket', async () => {
      expect(MAX_BUNDLE_UPLOAD_BYTES).toBe(10 * 1024 * 1024);
      const before = await snapshot();
      const response = await http('PUT', '/apps/demo/web-demo/bundle', new Uint8Array(MAX_BUNDLE_UPLOAD_BYTES + 1), {
        'content-type': 'application/octet-stream',
        'x-bundle-format': 'tar.gz',
      });
      expect(response.status).toBe(413);
      expect(((await response.json()) as { message: string }).message).toBe(
        `the bundle is ${MAX_BUNDLE_UPLOAD_BYTES + 1} bytes: exceeds the upload limit of 10 MiB (10485760 bytes)`,
      );
      expect(await snapshot()).toEqual(before);
    });

    it("a body over FC's own 32 MB request limit is refused by the trigger before the function runs", async () => {
      const before = await snapshot();
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const target = new URL('/apps/demo/web-demo/bundle', url);
        const req = request(
          target,
          {
            method: 'PUT',
            headers: {
              authorization: `Bearer ${token}`,
              'content-type': 'application/octet-stream',
              'content-length': String(FC_HTTP_TRIGGER_MAX_BODY_BYTES + 1),
            },
          },
          (res) => {
            let body = '';
            res
              .setEncoding('utf8')
              .on('data', (chunk: string) => (body += chunk))
              .on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.write(Buffer.alloc(1024));
      });
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.body)).toEqual({
        error: 'EntityTooLarge',
        message: `payload size exceeds maximum allowed size (${FC_HTTP_TRIGGER_MAX_BODY_BYTES} bytes)`,
      });
      expect(await snapshot()).toEqual(before);
    });

    it('a bundle sent as text is refused, not stored', async () => {
      const before = await snapshot();
      const response = await http('PUT', '/apps/demo/web-demo/bundle', 'kind: x\n', {
        'content-type': 'text/yaml',
        'x-bundle-format': 'yaml',
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { message: string }).message).toMatch(
        /content-type "text\/yaml" is not accepted for a bundle upload: send application\/octet-stream/,
      );
      expect(await snapshot()).toEqual(before);
    });
  });

  it('accepts a valid bundle over the old 1 MiB cap, as the bucket path does, and reports its ingest outcome', async () => {
    // A comment of random text pads the bundle: gzip cannot shrink it, the parser ignores it.
    const dir = variantOfWebDemo({ 'app.yaml': (text) => `# ${randomBytes(2 * 1024 * 1024).toString('base64')}\n${text}` });
    const packed = await packBundle(dir);
    expect(packed.data.length).toBeGreaterThan(2 * 1024 * 1024);
    const before = await snapshot();
    const upload = await client.upload(packed.app, packed);
    expect(upload).toMatchObject({ key: 'bundles/demo/web-demo.tar.gz', size: packed.data.length });
    const outcome = await client.waitForIngest(upload, { timeoutMs: 30_000, pollMs: 50 });
    // Same publishVersion as the current release: ingested, and nothing to do.
    expect(outcome).toMatchObject({ status: 'completed', outcome: 'unchanged', runId: before.runId });
    expect((await snapshot()).runs).toEqual(before.runs);
  });

  it('answers the outcome of an upload only for a well-formed question', async () => {
    const missing = await http('GET', '/apps/demo/web-demo/bundle?format=tar.gz');
    expect(missing.status).toBe(400);
    const badFormat = await http('GET', '/apps/demo/web-demo/bundle?format=exe&etag=x');
    expect(badFormat.status).toBe(400);
    expect(await (await http('GET', '/apps/demo/web-demo/bundle?format=zip&etag=never-uploaded')).json()).toEqual({ status: 'pending' });
  });

  it('a bundle the ingest refuses: the outcome says why, and no run starts', async () => {
    const dir = variantOfWebDemo({
      'app-meta.yaml': (text) =>
        text.replace(
          '  labels:\n    app: web-demo\n  name: web-demo\n',
          '  labels:\n    app: web-demo\n    __proto__: evil\n  name: web-demo\n',
        ),
      'app.yaml': bumpVersion('version-proto'),
    });
    const before = await snapshot();
    const upload = await client.upload(WEB_DEMO, { app: WEB_DEMO, format: 'tar.gz', data: await packTarGz(dir) });
    const outcome = await client.waitForIngest(upload, { timeoutMs: 30_000, pollMs: 50 });
    expect(outcome).toMatchObject({
      status: 'completed',
      outcome: 'failed',
      error: expect.stringMatching(/app-meta\.yaml \(document 1\) field metadata\.labels\.__proto__: the key "__proto__"/),
    });
    const after = await snapshot();
    expect({ ...after, bucket: undefined }).toEqual({ ...before, bucket: undefined });
  });

  it('tricenter upload waits for the ingest: a refused bundle exits non-zero with the reason, escaped', async () => {
    // Valid for the local check (the CLI has no registry); the ingest refuses the unknown cluster,
    // whose name carries an escape sequence that would clear the screen.
    const dir = variantOfWebDemo({
      'app.yaml': (text) => bumpVersion('version-nowhere')(text).replace('clusters: ["cluster1-beijing"]', 'clusters: ["nowhere\\e[2J"]'),
    });
    const before = await snapshot();
    const cli = await runCli(process.execPath, [
      'bin/tricenter.mjs',
      'upload',
      dir,
      '--endpoint',
      url,
      '--token',
      token,
      '--timeout',
      '60',
    ]).then(
      () => ({ code: 0, stdout: '', stderr: '' }),
      (err: { code: number; stdout: string; stderr: string }) => err,
    );
    expect(cli.code).toBe(1);
    expect(cli.stdout).toMatch(/^uploaded demo\/web-demo as tricenter-bundles\/bundles\/demo\/web-demo\.tar\.gz /);
    expect(cli.stderr).toMatch(/^demo\/web-demo: the bundle was refused: .*unknown cluster "nowhere\\x1b\[2J"/);
    expect(cli.stderr).not.toContain('\x1b');
    expect(cli.stderr.trimEnd().split('\n')).toHaveLength(1);
    const after = await snapshot();
    expect({ ...after, bucket: undefined }).toEqual({ ...before, bucket: undefined });
  }, 60_000);

  describe('Idempotency-Key is bound to its application, action and run', () => {
    it('refuses a malformed key', async () => {
      const before = await snapshot();
      await expectRefused(
        await invoke(decision('approve', '{}', { 'Idempotency-Key': 'two words' })),
        400,
        /header Idempotency-Key: expected 1 to 128 visible ASCII characters/,
        before,
      );
    });

    it('spends a key on its first use even when that request fails', async () => {
      const key = `key-${randomBytes(6).toString('hex')}`;
      const first = await invoke(decision('approve', '{}', { 'Idempotency-Key': key }, { namespace: 'demo', name: 'nothing' }));
      expect(first.status).toBe(404);
      const before = await snapshot();
      await expectRefused(
        await invoke(decision('terminate', '{}', { 'Idempotency-Key': key })),
        422,
        /was first used for approve of demo\/nothing \(no run\); it cannot be reused for terminate of demo\/web-demo/,
        before,
      );
    });

    it('replays the same request, and refuses the key for another action or application with 422', async () => {
      const key = `key-${randomBytes(6).toString('hex')}`;
      const first = await invoke(decision('approve', '{"comment":"go"}', { 'Idempotency-Key': key }));
      expect(first.status).toBe(200);
      const replay = await invoke(decision('approve', '{"comment":"go"}', { 'Idempotency-Key': key }));
      expect(replay).toEqual(first);
      await waitForPhase(client, 'running');
      const approved = await snapshot();
      expect(approved.decisions.filter((d) => d.kind === 'approve')).toHaveLength(1);

      const runId = String(first.body.runId);
      await expectRefused(
        await invoke(decision('terminate', '{}', { 'Idempotency-Key': key })),
        422,
        new RegExp(
          `^Idempotency-Key "${key}" was first used for approve of demo/web-demo \\(run ${runId}\\); it cannot be reused for terminate of demo/web-demo \\(run ${runId}\\): send a new key$`,
        ),
        approved,
      );
      await expectRefused(
        await invoke(decision('approve', '{}', { 'Idempotency-Key': key }, OTHER_APP)),
        422,
        /was first used for approve of demo\/web-demo .*; it cannot be reused for approve of demo\/other \(run run-other\)/,
        await snapshot(),
      );
      const other = await twin.deps.store.getRun('run-other');
      expect(other?.decisions).toEqual([]);
    });
  });

  it('upload reports the run the ingest started', async () => {
    const packed = await packBundle(variantOfWebDemo({ 'app.yaml': bumpVersion('version10') }));
    const upload = await client.upload(packed.app, packed);
    const outcome = await client.waitForIngest(upload, { timeoutMs: 30_000, pollMs: 50 });
    const line = describeIngest(upload, outcome, 30_000);
    expect(line).toMatch(/^demo\/web-demo: run run-\S+ started \(release demo\/web-demo\/version10\/[0-9a-f]{12}\)$/);
    expect((await client.status(WEB_DEMO)).runId).toBe(/run (run-\S+) started/.exec(line)?.[1]);
  });

  it('a rollback retried with its Idempotency-Key is refused, never rolled back twice', async () => {
    const key = `key-${randomBytes(6).toString('hex')}`;
    const from = (await client.status(WEB_DEMO)).runId;
    const first = await invoke(decision('rollback', '{}', { 'Idempotency-Key': key }));
    expect(first).toMatchObject({ status: 200, body: { action: 'rollback', publishVersion: 'version8' } });
    await waitFor(
      () => client.status(WEB_DEMO),
      (s) => s.runId === first.body.runId && s.phase === 'workflowSuspending',
      20_000,
      'the rollback run at the gate',
    );
    const before = await snapshot();
    await expectRefused(
      await invoke(decision('rollback', '{}', { 'Idempotency-Key': key })),
      422,
      new RegExp(
        `was first used for rollback of demo/web-demo \\(run ${from}\\); it cannot be reused for rollback of demo/web-demo \\(run ${String(first.body.runId)}\\)`,
      ),
      before,
    );
  });
});
