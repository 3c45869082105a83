import type { Command } from 'commander';
import { ApiClient, packBundle } from '../client.ts';
import { formatStatus, table } from '../status-view.ts';
import { parseAppRef, resolveTarget } from '../target.ts';
import type { AppStatus } from '#shared/usecases/status.ts';

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

export function register(program: Command): void {
  withTarget(program.command('upload <bundle>').description('validate a bundle locally, then upload it (a folder is packed as .tar.gz)')).action(
    async (bundle: string, options: TargetOptions) => {
      const packed = await packBundle(bundle);
      const result = await new ApiClient(resolveTarget(options)).upload(packed.app, packed);
      console.log(`uploaded ${packed.app.namespace}/${packed.app.name} as ${result.bucket}/${result.key} (${result.size} bytes, etag ${result.etag})`);
    },
  );

  withTarget(
    program
      .command('status <app>')
      .description('phase, steps and per-cluster READY / UP-TO-DATE / AVAILABLE of <namespace>/<name>')
      .option('-w, --watch', 'print again on every change until the run ends')
      .option('-o, --output <format>', 'text or json', 'text'),
  ).action(async (app: string, options: TargetOptions & { watch?: boolean; output: string }) => {
    const client = new ApiClient(resolveTarget(options));
    const ref = parseAppRef(app);
    const print = (status: AppStatus) => console.log(options.output === 'json' ? JSON.stringify(status, null, 2) : formatStatus(status));
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
    withTarget(program.command(`${action} <app>`).description(`${action} the current run of <namespace>/<name>`).option('-c, --comment <text>', 'recorded with the decision')).action(
      async (app: string, options: TargetOptions & { comment?: string }) => {
        const result = await new ApiClient(resolveTarget(options)).decide(parseAppRef(app), action, options.comment);
        console.log(`${action}: run ${result.runId} is ${result.phase} (by ${result.by})`);
      },
    );
  }

  withTarget(program.command('runs <app>').description('run history of <namespace>/<name>, newest first').option('-o, --output <format>', 'text or json', 'text')).action(
    async (app: string, options: TargetOptions & { output: string }) => {
      const { runs } = await new ApiClient(resolveTarget(options)).runs(parseAppRef(app));
      if (options.output === 'json') return console.log(JSON.stringify(runs, null, 2));
      console.log(
        table([
          ['RUN', 'PHASE', 'PUBLISH VERSION', 'STARTED', 'REASON'],
          ...runs.map((r) => [String(r.id), String(r.phase), String(r.publishVersion), new Date(Number(r.createdAt)).toISOString(), String(r.reason ?? '')]),
        ]),
      );
    },
  );
}
