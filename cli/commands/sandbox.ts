import type { Command } from 'commander';
import { dirname, resolve } from 'node:path';
import { TricenterError } from '#shared/platform/errors.ts';
import type { SandboxFault } from '#sandbox/control.ts';

/**
 * `tricenter sandbox up` runs simulated clusters in the foreground until SIGINT/SIGTERM;
 * `tricenter sandbox fail|heal <cluster>` inject and clear faults in a running one, found through
 * the state file beside its kubeconfig. The sandbox is imported when one of them runs, not for `--help`.
 */
const DEFAULT_DIR = '.tricenter/sandbox';
type Mode = 'data-plane' | 'api' | 'both';

function sandboxDir(kubeconfig: string | undefined): string {
  return kubeconfig ? dirname(resolve(kubeconfig)) : resolve(DEFAULT_DIR);
}

function integer(flag: string, min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new TricenterError('VALIDATION', `${flag} must be an integer >= ${min}, got "${value}"`);
    return n;
  };
}

function parseMode(value: string): Mode {
  if (value === 'data-plane' || value === 'api' || value === 'both') return value;
  throw new TricenterError('VALIDATION', `--mode must be data-plane, api or both, got "${value}"`);
}

/** The fault left after failing (or healing) one part of a cluster on top of its current fault. */
export function combineFault(current: SandboxFault, mode: Mode, fail: boolean): SandboxFault {
  const dataPlane = mode === 'api' ? current === 'data-plane-down' || current === 'both' : fail;
  const api = mode === 'data-plane' ? current === 'api-unreachable' || current === 'both' : fail;
  return dataPlane && api ? 'both' : dataPlane ? 'data-plane-down' : api ? 'api-unreachable' : 'none';
}

async function changeFault(cluster: string, opts: { mode: Mode; kubeconfig?: string }, fail: boolean): Promise<void> {
  const { readSandboxState, requestFault } = await import('#sandbox/control.ts');
  const state = await readSandboxState(sandboxDir(opts.kubeconfig));
  const current = state.clusters.find((c) => c.name === cluster);
  if (!current)
    throw new TricenterError(
      'NOT_FOUND',
      `no sandbox cluster named "${cluster}"; clusters: ${state.clusters.map((c) => c.name).join(', ')}`,
    );
  const live = await fetch(`${state.controlUrl}/clusters`).then((r) => r.json() as Promise<Array<{ name: string; fault: SandboxFault }>>);
  const now = live.find((c) => c.name === cluster)?.fault ?? 'none';
  const view = await requestFault(state, cluster, combineFault(now, opts.mode, fail));
  process.stdout.write(`${cluster}: fault ${view.fault}\n`);
}

export function register(program: Command): void {
  const sandbox = program.command('sandbox').description('local simulated Kubernetes clusters (API, controllers, data plane)');

  sandbox
    .command('up')
    .description('run one simulated cluster per registry entry, in the foreground until interrupted')
    .requiredOption('--clusters <file>', 'cluster registry (clusters.yaml)')
    .option('--kubeconfig <path>', `where to write the kubeconfig (default ${DEFAULT_DIR}/kubeconfig); the state file goes beside it`)
    .option('--ready-delay <ms>', 'Deployments become ready this long after a change', integer('--ready-delay', 0), 2000)
    .option(
      '--data-plane-port <port>',
      'data plane port on every cluster address (0 = any free one)',
      integer('--data-plane-port', 0),
      8080,
    )
    .option('--first-address <ip>', 'loopback address of the first cluster', '127.0.0.2')
    .action(async (opts: { clusters: string; kubeconfig?: string; readyDelay: number; dataPlanePort: number; firstAddress: string }) => {
      const [{ loadBundle }, { parseClusterRegistry }, { startSandbox }] = await Promise.all([
        import('#shared/delivery/bundle/load.ts'),
        import('#shared/delivery/model/bundle.ts'),
        import('#sandbox/index.ts'),
      ]);
      const registry = parseClusterRegistry(await loadBundle(opts.clusters));
      const dir = sandboxDir(opts.kubeconfig);
      const running = await startSandbox({
        clusters: registry.clusters,
        dir,
        kubeconfigPath: opts.kubeconfig ? resolve(opts.kubeconfig) : resolve(dir, 'kubeconfig'),
        readyDelayMs: opts.readyDelay,
        dataPlanePort: opts.dataPlanePort,
        firstAddress: opts.firstAddress,
      });
      const lines = [
        `sandbox up: ${running.clusters.length} cluster(s); kubeconfig ${running.kubeconfigPath}`,
        `control API ${running.controlUrl}`,
      ];
      for (const c of running.clusters) {
        lines.push(`  ${c.name}: API ${c.apiUrl}, data plane ${c.dataPlaneUrl}`);
        lines.push(`    kubectl --kubeconfig ${running.kubeconfigPath} --context ${c.name} get ns`);
      }
      lines.push('press Ctrl-C to stop');
      process.stdout.write(`${lines.join('\n')}\n`);
      await new Promise<void>((done) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void running.stop().then(done, done);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      process.stdout.write('sandbox stopped\n');
    });

  const faultCommand = (name: 'fail' | 'heal', description: string): void => {
    sandbox
      .command(name)
      .description(description)
      .argument('<cluster>', 'cluster name')
      .option('--mode <mode>', 'data-plane, api or both', parseMode, 'both' as Mode)
      .option('--kubeconfig <path>', `kubeconfig of the running sandbox (default ${DEFAULT_DIR}/kubeconfig)`)
      .action((cluster: string, opts: { mode: Mode; kubeconfig?: string }) => changeFault(cluster, opts, name === 'fail'));
  };
  faultCommand('fail', 'make a cluster fail: its data plane answers 503 and/or its API refuses connections');
  faultCommand('heal', 'undo `fail` for a cluster (the given part, or all of it)');
}
