import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { TricenterError, errorMessage } from '../../../platform/errors.ts';
import { silentLogger, type Logger } from '../../../platform/log.ts';
import type { RateLimit } from '../../../platform/token-bucket.ts';
import type { ClusterEntry } from '../../model/clusters.ts';
import type { AckKubeconfigSource } from '../aliyun/ack-kubeconfig.ts';

/**
 * How the gateway reaches each cluster of the registry: a KubeConfig whose current context is that
 * cluster. Sources, per registry entry (`connection`):
 * - `kubeconfig {path?, context?}`: a file (default $KUBECONFIG, then ~/.kube/config), the context
 *   named after the cluster unless another is given;
 * - `kubeconfigEnv`: a base64 kubeconfig in an environment variable (a secret); its context is the
 *   one given, else one named after the cluster, else the kubeconfig's current context;
 * - `ackClusterId` + `region`: fetched from Container Service and replaced before it expires;
 * - no connection: the default kubeconfig given here (the sandbox's), context = cluster name.
 * Kubeconfig contents hold credentials and are never logged.
 */
export interface ClusterConnections {
  /**
   * The KubeConfig for a cluster (name or alias). The same object comes back while it is valid, so a
   * caller may keep one client per returned object and rebuild it when the object changes.
   */
  kubeConfig(cluster: string): Promise<KubeConfig>;
  /** The registry's cluster names. */
  clusterNames(): string[];
  /** The registry's rate limit for a cluster (name or alias), when it sets one. */
  rateLimit?(cluster: string): RateLimit | undefined;
}

export interface ClusterConnectionsOptions {
  clusters: ClusterEntry[];
  /** Kubeconfig for entries without a connection (the local sandbox writes one). Default as for `kubeconfig`. */
  defaultKubeconfigPath?: string;
  /** Needed only when an entry has `ackClusterId`. */
  ack?: AckKubeconfigSource;
  env?: NodeJS.ProcessEnv;
  homeDir?: string;
  logger?: Logger;
}

function expandHome(path: string, home: string): string {
  return path === '~' || path.startsWith('~/') ? join(home, path.slice(1)) : path;
}

function pickContext(
  kubeConfig: KubeConfig,
  cluster: string,
  wanted: string | undefined,
  source: string,
  fallbackToCurrent: boolean,
): KubeConfig {
  const names = kubeConfig.getContexts().map((context) => context.name);
  const chosen = wanted ?? (names.includes(cluster) || !fallbackToCurrent ? cluster : kubeConfig.getCurrentContext());
  if (!chosen || !names.includes(chosen)) {
    throw new TricenterError(
      'VALIDATION',
      `cluster "${cluster}": context "${chosen}" not found in ${source} (contexts: ${names.join(', ') || 'none'})`,
    );
  }
  kubeConfig.setCurrentContext(chosen);
  return kubeConfig;
}

export function createClusterConnections(options: ClusterConnectionsOptions): ClusterConnections {
  const env = options.env ?? process.env;
  const home = options.homeDir ?? homedir();
  const logger = options.logger ?? silentLogger;
  const byName = new Map<string, ClusterEntry>();
  for (const entry of options.clusters) {
    for (const key of [entry.name, ...entry.aliases]) byName.set(key, entry);
  }
  const resolved = new Map<string, { kubeConfig: KubeConfig; ackText?: string }>();
  const loading = new Map<string, Promise<{ kubeConfig: KubeConfig; ackText?: string }>>();

  const defaultPaths = (): string[] => {
    const fromEnv = (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
    return fromEnv.length > 0 ? fromEnv : [join(home, '.kube', 'config')];
  };

  // A kubeconfig file is parsed once per connections object, however many clusters it serves (the
  // sandbox's holds one context per cluster); each cluster gets its own KubeConfig over the same entries.
  const parsedFiles = new Map<string, KubeConfig>();
  const loadFiles = (cluster: string, paths: string[]): KubeConfig => {
    const key = paths.join(delimiter);
    let parsed = parsedFiles.get(key);
    if (!parsed) {
      parsed = parseFiles(cluster, paths);
      parsedFiles.set(key, parsed);
    }
    const copy = new KubeConfig();
    copy.loadFromOptions({
      clusters: parsed.clusters,
      users: parsed.users,
      contexts: parsed.contexts,
      currentContext: parsed.currentContext,
    });
    return copy;
  };

  const parseFiles = (cluster: string, paths: string[]): KubeConfig => {
    const merged = new KubeConfig();
    paths.forEach((path, index) => {
      const file = expandHome(path, home);
      try {
        if (index === 0) merged.loadFromFile(file);
        else {
          const next = new KubeConfig();
          next.loadFromFile(file);
          merged.mergeConfig(next, true);
        }
      } catch (err) {
        throw new TricenterError('VALIDATION', `cluster "${cluster}": cannot read kubeconfig ${file}: ${errorMessage(err)}`, {
          cause: err,
        });
      }
    });
    return merged;
  };

  const load = async (entry: ClusterEntry): Promise<{ kubeConfig: KubeConfig; ackText?: string }> => {
    const connection = entry.connection;
    if (!connection) {
      const paths = options.defaultKubeconfigPath ? [options.defaultKubeconfigPath] : defaultPaths();
      return { kubeConfig: pickContext(loadFiles(entry.name, paths), entry.name, undefined, `kubeconfig ${paths.join(delimiter)}`, false) };
    }
    if ('kubeconfig' in connection) {
      const paths = connection.kubeconfig.path ? [connection.kubeconfig.path] : defaultPaths();
      return {
        kubeConfig: pickContext(
          loadFiles(entry.name, paths),
          entry.name,
          connection.kubeconfig.context,
          `kubeconfig ${paths.join(delimiter)}`,
          false,
        ),
      };
    }
    if ('kubeconfigEnv' in connection) {
      const encoded = env[connection.kubeconfigEnv];
      if (!encoded) {
        throw new TricenterError(
          'VALIDATION',
          `cluster "${entry.name}": environment variable ${connection.kubeconfigEnv} (base64 kubeconfig) is not set`,
        );
      }
      const kubeConfig = new KubeConfig();
      try {
        kubeConfig.loadFromString(Buffer.from(encoded, 'base64').toString('utf8'));
      } catch (err) {
        // The library's message may quote the document: keep only that it failed.
        throw new TricenterError(
          'VALIDATION',
          `cluster "${entry.name}": environment variable ${connection.kubeconfigEnv} does not hold a base64 kubeconfig`,
          {
            cause: new Error((err as Error).name),
          },
        );
      }
      return { kubeConfig: pickContext(kubeConfig, entry.name, connection.context, `kubeconfig from $${connection.kubeconfigEnv}`, true) };
    }
    if (!options.ack) {
      throw new TricenterError(
        'VALIDATION',
        `cluster "${entry.name}": ackClusterId needs Alibaba Cloud credentials, and none were given to the connections`,
      );
    }
    const fetched = await options.ack.get({
      clusterId: connection.ackClusterId,
      region: connection.region,
      ...(connection.privateIpAddress === undefined ? {} : { privateIpAddress: connection.privateIpAddress }),
    });
    const previous = resolved.get(entry.name);
    if (previous?.ackText === fetched.kubeconfig) return previous;
    const kubeConfig = new KubeConfig();
    try {
      kubeConfig.loadFromString(fetched.kubeconfig);
    } catch (err) {
      throw new TricenterError(
        'INTERNAL',
        `cluster "${entry.name}": the kubeconfig of ACK cluster ${connection.ackClusterId} could not be parsed`,
        {
          cause: new Error((err as Error).name),
          retryable: false,
        },
      );
    }
    return {
      kubeConfig: pickContext(kubeConfig, entry.name, undefined, `kubeconfig of ACK cluster ${connection.ackClusterId}`, true),
      ackText: fetched.kubeconfig,
    };
  };

  return {
    clusterNames: () => options.clusters.map((entry) => entry.name),
    rateLimit: (cluster) => byName.get(cluster)?.rateLimit,
    async kubeConfig(cluster) {
      const entry = byName.get(cluster);
      if (!entry) {
        throw new TricenterError(
          'VALIDATION',
          `cluster "${cluster}" is not in the cluster registry (known: ${options.clusters.map((c) => c.name).join(', ')})`,
        );
      }
      const cached = resolved.get(entry.name);
      // File and env kubeconfigs do not expire; an ACK one is re-checked (the source caches it).
      if (cached && !cached.ackText) return cached.kubeConfig;
      // Callers that arrive together share one load: each load makes a new KubeConfig, and a new
      // KubeConfig makes the gateway build a new client (connections, discovery) for the cluster.
      let pending = loading.get(entry.name);
      if (!pending) {
        pending = load(entry).finally(() => loading.delete(entry.name));
        loading.set(entry.name, pending);
      }
      const fresh = await pending;
      if (fresh !== resolved.get(entry.name)) {
        resolved.set(entry.name, fresh);
        logger.info('cluster connection resolved', {
          cluster: entry.name,
          source: entry.connection ? Object.keys(entry.connection)[0] : 'default-kubeconfig',
          context: fresh.kubeConfig.getCurrentContext(),
        });
      }
      return fresh.kubeConfig;
    },
  };
}
