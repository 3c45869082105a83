import type { Command } from 'commander';
import type { UploadOutcome } from '#shared/delivery/approval/uploads.ts';
import { TricenterError } from '#shared/platform/errors.ts';
import type { AppStatus } from '#shared/delivery/usecases/status.ts';
import { ApiClient, packBundle, type UploadResult } from '../client.ts';
import { formatDecisions, formatStatus, formatRejectedUploads, reviewPageUrl, table } from '../status-view.ts';
import { parseAppRef, resolveTarget } from '../target.ts';
import { terminalSafe, terminalSafeJson } from '../terminal-text.ts';

/**
 * Commands that speak to the approval HTTP API: the same against the local twin (found through
 * .tricenter/endpoints.json) and a deployed endpoint (--endpoint, --token).
 */
interface TargetOptions {
  endpoint?: string;
  token?: string;
}

const ENDED = new Set(['running', 'workflowFailed', 'workflowTerminated', 'unhealthy']);

function withTarget(command: Command): Command {
  return command
    .option('--endpoint <url>', 'approval API URL (default: the local twin, or $TRICENTER_ENDPOINT)')
    .option('--token <token>', 'bearer token (default: the local twin, or $TRICENTER_TOKEN)');
}

/**
 * What `tricenter upload` says once the ingest has decided; a refused bundle (or no decision in
 * time) is an error, so the command exits non-zero with the reason.
 */
export function describeIngest(upload: UploadResult, outcome: UploadOutcome, waitedMs: number): string {
  const app = `${upload.app.namespace}/${upload.app.name}`;
  if (outcome.status === 'pending') {
    throw new TricenterError(
      'TIMEOUT',
      `${app}: no ingest outcome for ${upload.key} (etag ${upload.etag}) after ${Math.round(waitedMs / 1000)} s; see \`tricenter status ${app}\``,
    );
  }
  if (outcome.outcome === 'failed')
    throw new TricenterError('BUNDLE_INVALID', `${app}: the bundle was refused: ${outcome.error ?? 'no reason given'}`);
  if (outcome.outcome === 'unchanged')
    return `${app}: unchanged, this publishVersion is already the current release${outcome.runId ? ` (run ${outcome.runId})` : ''}`;
  return `${app}: run ${outcome.runId ?? '?'} started (release ${outcome.releaseId ?? '?'})`;
}

export function register(program: Command): void {
  withTarget(
    program
      .command('upload <bundle>')
      .description(
        'validate a bundle locally, upload it (a folder is packed as .tar.gz) and wait for the ingest: the run started, or why the bundle was refused',
      )
      .option('--no-wait', 'return once the bundle is stored, without waiting for the ingest')
      .option('--timeout <seconds>', 'how long to wait for the ingest', '120'),
  ).action(async (bundle: string, options: TargetOptions & { wait: boolean; timeout: string }) => {
    const timeoutMs = Number(options.timeout) * 1000;
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0)
      throw new TricenterError('VALIDATION', `--timeout ${options.timeout}: expected a number of seconds`);
    const packed = await packBundle(bundle);
    const client = new ApiClient(resolveTarget(options));
    const upload = await client.upload(packed.app, packed);
    console.log(
      terminalSafe(
        `uploaded ${packed.app.namespace}/${packed.app.name} as ${upload.bucket}/${upload.key} (${upload.size} bytes, etag ${upload.etag})`,
      ),
    );
    if (!options.wait) return;
    const outcome = await client.waitForIngest(upload, { timeoutMs });
    console.log(terminalSafe(describeIngest(upload, outcome, timeoutMs)));
  });

  withTarget(
    program
      .command('status <app>')
      .description('phase, steps and per-cluster READY / UP-TO-DATE / AVAILABLE of <namespace>/<name>')
      .option('-w, --watch', 'print again on every change until the run ends')
      .option('-o, --output <format>', 'text or json', 'text'),
  ).action(async (app: string, options: TargetOptions & { watch?: boolean; output: string }) => {
    const target = resolveTarget(options);
    const client = new ApiClient(target);
    const ref = parseAppRef(app);
    const review = reviewPageUrl(target.endpoint, ref);
    const print = (status: AppStatus) => console.log(options.output === 'json' ? terminalSafeJson(status) : formatStatus(status, review));
    let status = await client.status(ref);
    print(status);
    let last = JSON.stringify({ ...status, updatedAt: 0, clusters: status.clusters });
    while (options.watch && !ENDED.has(status.phase)) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      status = await client.status(ref);
      const now = JSON.stringify({ ...status, updatedAt: 0, clusters: status.clusters });
      if (now !== last) {
        console.log('');
        print(status);
        last = now;
      }
    }
  });

  for (const action of ['approve', 'reject', 'resume', 'terminate', 'rollback'] as const) {
    const command = program
      .command(`${action} <app>`)
      .description(`${action} the current run of <namespace>/<name>`)
      .option('-c, --comment <text>', 'recorded with the decision');
    // Terminate and rollback act on the whole run; the others on one waiting step, named when several wait at once.
    if (action === 'approve' || action === 'reject' || action === 'resume')
      command.option('--step <name>', 'the waiting step the decision is for (required when several wait at once)');
    withTarget(command).action(async (app: string, options: TargetOptions & { comment?: string; step?: string }) => {
      const result = await new ApiClient(resolveTarget(options)).decide(parseAppRef(app), action, options.comment, options.step);
      console.log(
        terminalSafe(`${action}${result.step ? ` of step ${result.step}` : ''}: run ${result.runId} is ${result.phase} (by ${result.by})`),
      );
    });
  }

  withTarget(
    program
      .command('runs <app>')
      .description('run history of <namespace>/<name>, newest first')
      .option('-o, --output <format>', 'text or json', 'text'),
  ).action(async (app: string, options: TargetOptions & { output: string }) => {
    const { runs, rejectedUploads = [] } = await new ApiClient(resolveTarget(options)).runs(parseAppRef(app));
    if (options.output === 'json') return console.log(terminalSafeJson(rejectedUploads.length > 0 ? { runs, rejectedUploads } : runs));
    console.log(
      table([
        ['RUN', 'PHASE', 'PUBLISH VERSION', 'STARTED', 'REASON'],
        ...runs.map((r) => [
          String(r.id),
          String(r.phase),
          String(r.publishVersion),
          new Date(Number(r.createdAt)).toISOString(),
          String(r.reason ?? ''),
        ]),
      ]),
    );
    const decisions = formatDecisions(runs);
    if (decisions) console.log(`\n${decisions}`);
    if (rejectedUploads.length > 0) console.log(`\n${formatRejectedUploads(rejectedUploads)}`);
  });
}
