import type { Command } from 'commander';
import { BundleError } from '#shared/platform/errors.ts';
import type { AppBundle } from '#shared/delivery/model/bundle.ts';
import type { ClusterRegistry } from '#shared/delivery/model/clusters.ts';
import type { Plan } from '#shared/delivery/model/plan.ts';
import type { PlanRow } from '#shared/delivery/render/views.ts';
import { terminalSafe, terminalSafeJson } from '../terminal-text.ts';

/**
 * Dry-run commands: `render` prints the manifests each cluster would get, `plan` the steps.
 * Neither touches a cluster. Both refuse what ingest refuses: names the API server would reject
 * always, and, given the operator's registry (`--clusters`) or a `--tenant`, what the tenant may not use.
 * The loader, the models, the renderer and YAML are imported when one of them runs, not for `--help`.
 */
export function register(program: Command): void {
  program
    .command('render')
    .description('print the manifests each cluster would get (dry run)')
    .argument('<bundle>', 'a folder, .tar.gz, .tgz, .zip or multi-document .yaml')
    .option('--clusters <file>', 'cluster registry (default: the clusters document inside the bundle)')
    .option('--tenant <name>', "check tenancy as this tenant (default with --clusters: the Application's namespace)")
    .option('--cluster <name>', 'only this cluster (name or alias)')
    .option('-o, --output <format>', 'yaml or json', 'yaml')
    .action(async (bundlePath: string, opts: PlanOptions & { cluster?: string; output: string }) => {
      const format = outputFormat(opts.output, ['yaml', 'json']);
      const [{ plan, registry }, { manifestsByCluster }, output] = await Promise.all([
        planFor(bundlePath, opts),
        import('#shared/delivery/render/views.ts'),
        import('../render-output.ts'),
      ]);
      let byCluster = manifestsByCluster(plan);
      if (opts.cluster !== undefined) {
        const name = canonicalClusterName(opts.cluster, registry);
        const manifests = byCluster.get(name);
        if (!manifests) {
          throw new Error(
            `cluster "${opts.cluster}" gets nothing from this bundle; clusters in the plan: ${[...byCluster.keys()].join(', ') || 'none'}`,
          );
        }
        byCluster = new Map([[name, manifests]]);
      }
      // Streamed, manifest by manifest: a large plan never becomes one string.
      if (format === 'json') await output.writeClustersJson(byCluster, process.stdout);
      else {
        const { stringify } = await import('yaml');
        await output.writeClustersYaml(byCluster, process.stdout, (manifest) => stringify(manifest, { lineWidth: 0 }));
      }
    });

  program
    .command('plan')
    .description('print the deploy steps (dry run); -o json prints the whole plan, manifests included')
    .argument('<bundle>', 'a folder, .tar.gz, .tgz, .zip or multi-document .yaml')
    .option('--clusters <file>', 'cluster registry (default: the clusters document inside the bundle)')
    .option('--tenant <name>', "check tenancy as this tenant (default with --clusters: the Application's namespace)")
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (bundlePath: string, opts: PlanOptions & { output: string }) => {
      const format = outputFormat(opts.output, ['table', 'json']);
      const [{ plan }, { formatTable, planRows }] = await Promise.all([
        planFor(bundlePath, opts),
        import('#shared/delivery/render/views.ts'),
      ]);
      if (format === 'json') {
        process.stdout.write(`${terminalSafeJson(plan)}\n`);
        return;
      }
      const head = `application ${plan.app.namespace}/${plan.app.name}  publishVersion ${plan.publishVersion}  content ${plan.contentHash.slice(0, 12)}`;
      // Step names are free text from the bundle: escaped like every string the CLI prints.
      const rows = planRows(plan).map(
        (row) => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, terminalSafe(value)])) as unknown as PlanRow,
      );
      process.stdout.write(`${terminalSafe(head)}\n\n${formatTable(rows)}\n`);
    });
}

interface PlanOptions {
  clusters?: string;
  tenant?: string;
}

async function planFor(bundlePath: string, opts: PlanOptions): Promise<{ plan: Plan; registry: ClusterRegistry }> {
  const [{ loadBundle }, { parseBundle, parseClusterRegistry }, { render }, { admitNames, admitRelease }] = await Promise.all([
    import('#shared/delivery/bundle/load.ts'),
    import('#shared/delivery/model/bundle.ts'),
    import('#shared/delivery/render/render.ts'),
    import('#shared/tenancy/admission.ts'),
  ]);
  const bundle = parseBundle(await loadBundle(bundlePath));
  const registry = opts.clusters === undefined ? registryInside(bundle) : parseClusterRegistry(await loadBundle(opts.clusters));
  const plan = render(bundle, registry);
  if (opts.clusters !== undefined || opts.tenant !== undefined) {
    admitRelease({ tenant: opts.tenant ?? plan.app.namespace, registry, plan, traffic: bundle.trafficPolicies });
  } else admitNames(plan);
  return { plan, registry };
}

function registryInside(bundle: AppBundle): ClusterRegistry {
  if (!bundle.registry) {
    throw new BundleError('holds no cluster registry (a document with top-level `clusters`); pass --clusters <file>', {
      file: bundle.source,
    });
  }
  return bundle.registry.registry;
}

function outputFormat<F extends string>(value: string, formats: readonly F[]): F {
  const found = formats.find((f) => f === value);
  if (found) return found;
  throw new Error(`unknown output format "${value}": use ${formats.join(' or ')}`);
}

function canonicalClusterName(written: string, registry: ClusterRegistry): string {
  const entry = registry.clusters.find((c) => c.name === written || c.aliases.includes(written));
  return entry?.name ?? written;
}
