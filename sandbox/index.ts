import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { join, resolve } from 'node:path';
import { systemClock, type Clock } from '#shared/platform/clock.ts';
import type { ClusterEntry } from '#shared/delivery/model/clusters.ts';
import { handleControlRequest, STATE_FILE, type ClusterView, type SandboxFault, type SandboxState } from './control.ts';
import { Controllers } from './controllers.ts';
import { handleDataPlaneRequest } from './data-plane.ts';
import { renderKubeconfig } from './kubeconfig.ts';
import { Registry } from './kube/registry.ts';
import { SandboxStateFile, type ClusterJournal } from './kube/journal.ts';
import { handleApiRequest } from './kube/router.ts';
import { findResource, type ResourceType } from './kube/resources.ts';
import { ObjectStore } from './kube/store.ts';
import { ReopenableServer } from './listener.ts';
import { makeServingCertificate, type ServingCertificate } from './tls.ts';

/**
 * The local multi-cluster sandbox: one simulated Kubernetes cluster per registry entry, each an
 * HTTPS API on 127.0.0.1 (its own port) with controllers inside, and a data plane on the
 * cluster's own loopback address; a kubeconfig with a context per cluster; a control API for
 * faults. Everything runs in this process, cheaply enough for dozens of clusters.
 */
export interface SandboxOptions {
  clusters: ClusterEntry[];
  /** Where the kubeconfig and state file go (the CLI's default: .tricenter/sandbox). */
  dir: string;
  /** Deployments become ready this long after each spec change (default 2000); 0 = at once. */
  readyDelayMs?: number;
  /** Default 8080; 0 = one port that is free on every cluster address. */
  dataPlanePort?: number;
  /** Default 127.0.0.2; cluster i gets the i-th address after it. */
  firstAddress?: string;
  /** Kubeconfig file name or path (default `<dir>/kubeconfig`). */
  kubeconfigPath?: string;
  /**
   * Keep every cluster's objects in this SQLite file and start from what it holds (the local twin
   * resumes after a crash). `mustExist`: the file must already hold clusters (a resume).
   * Without it, the clusters live in memory and start empty.
   */
  state?: { file: string; mustExist?: boolean };
  clock?: Clock;
}

interface SandboxCluster {
  name: string;
  apiUrl: string;
  ingressAddress: string;
  dataPlanePort: number;
  dataPlaneUrl: string;
}

export interface Sandbox {
  kubeconfigPath: string;
  controlUrl: string;
  /** The bearer token every cluster accepts (it is in the kubeconfig too). */
  token: string;
  clusters: SandboxCluster[];
  setFault(cluster: string, fault: SandboxFault): Promise<void>;
  fault(cluster: string): SandboxFault;
  /** API requests served, by Kubernetes verb (plus `discovery`), since start or the last reset. */
  stats(cluster: string): { requests: number; byVerb: Record<string, number> };
  resetStats(): void;
  stop(): Promise<void>;
}

interface RunningCluster {
  view: SandboxCluster;
  api: ReopenableServer;
  dataPlane: ReopenableServer;
  controllers: Controllers;
  fault: SandboxFault;
  byVerb: Record<string, number>;
}

function addressAt(first: string, offset: number): string {
  const parts = first.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255) || parts[0] !== 127) {
    throw new Error(`firstAddress must be a loopback IPv4 address (127.x.y.z), got "${first}"`);
  }
  const n = (((parts[0] ?? 0) << 24) | ((parts[1] ?? 0) << 16) | ((parts[2] ?? 0) << 8) | (parts[3] ?? 0)) + offset;
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

const NAMESPACES = findResource('', 'v1', 'namespaces') as ResourceType;
const SERVICES = findResource('', 'v1', 'services') as ResourceType;

/** What a fresh cluster holds: the system namespaces and the `kubernetes` Service. */
function seed(registry: Registry): void {
  const options = { manager: 'kube-apiserver', dryRun: false };
  for (const name of ['default', 'kube-node-lease', 'kube-public', 'kube-system']) {
    registry.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, options);
  }
  registry.create(
    SERVICES,
    'default',
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] },
    },
    options,
  );
}

/** One simulated cluster: its store, registry, controllers, API server and data plane (not yet listening). */
function createCluster(
  name: string,
  ingressAddress: string,
  shared: { clock: Clock; readyDelayMs: number; token: string; certificate: ServingCertificate; journal: ClusterJournal | undefined },
): RunningCluster {
  const { clock, token, certificate, journal } = shared;
  const store = new ObjectStore(journal);
  const registry = new Registry(store, clock);
  if (store.isEmpty()) seed(registry);
  registry.resumeTerminations();
  const controllers = new Controllers(registry, clock, shared.readyDelayMs, ingressAddress, journal);
  controllers.start();
  const byVerb: Record<string, number> = {};
  const count = (verb: string): void => {
    byVerb[verb] = (byVerb[verb] ?? 0) + 1;
  };
  let fault: SandboxFault = 'none';
  const api: ReopenableServer = new ReopenableServer(
    createHttpsServer({ cert: certificate.cert, key: certificate.key }, (req, res) => {
      void handleApiRequest({ registry, clock, token, serverAddress: () => `127.0.0.1:${api.boundPort}`, count }, req, res);
    }),
    '127.0.0.1',
  );
  const isDown = (): boolean => fault === 'data-plane-down' || fault === 'both';
  const dataPlane = new ReopenableServer(
    createHttpServer((req, res) => handleDataPlaneRequest({ clusterName: name, store, controllers, isDown }, req, res)),
    ingressAddress,
  );
  return {
    view: { name, apiUrl: '', ingressAddress, dataPlanePort: 0, dataPlaneUrl: '' },
    api,
    dataPlane,
    controllers,
    get fault() {
      return fault;
    },
    set fault(next: SandboxFault) {
      fault = next;
    },
    byVerb,
  };
}

async function listenDataPlanes(servers: ReopenableServer[], port: number): Promise<number> {
  if (port !== 0) {
    for (const s of servers) await s.listen(port);
    return port;
  }
  for (let attempt = 0; ; attempt++) {
    const [first, ...rest] = servers;
    if (!first) return 0;
    const chosen = await first.listen(0);
    try {
      for (const s of rest) await s.listen(chosen);
      return chosen;
    } catch (err) {
      await Promise.all(servers.map((s) => s.close()));
      if (attempt >= 20) throw err;
    }
  }
}

export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const clock = options.clock ?? systemClock;
  const readyDelayMs = options.readyDelayMs ?? 2000;
  const dir = resolve(options.dir);
  const kubeconfigPath = resolve(dir, options.kubeconfigPath ?? 'kubeconfig');
  const token = randomBytes(24).toString('hex');
  const certificate = await makeServingCertificate();
  const clusters: RunningCluster[] = [];
  const stateFile = options.state
    ? SandboxStateFile.open(resolve(options.state.file), { mustExist: options.state.mustExist ?? false })
    : undefined;
  const stopAll = async (): Promise<void> => {
    for (const c of clusters) c.controllers.stop();
    await Promise.all(clusters.flatMap((c) => [c.api.close(), c.dataPlane.close()]));
    // Work already queued (a namespace being emptied) still writes through before the file closes.
    await new Promise((resolve) => setImmediate(resolve));
    stateFile?.close();
  };

  try {
    for (const [index, entry] of options.clusters.entries()) {
      const journal = stateFile?.cluster(entry.name);
      const cluster = createCluster(entry.name, addressAt(options.firstAddress ?? '127.0.0.2', index), {
        clock,
        readyDelayMs,
        token,
        certificate,
        journal,
      });
      clusters.push(cluster);
      cluster.view.apiUrl = `https://127.0.0.1:${await cluster.api.listen(0)}`;
    }
    const dataPlanePort = await listenDataPlanes(
      clusters.map((c) => c.dataPlane),
      options.dataPlanePort ?? 8080,
    );
    for (const c of clusters) {
      c.view.dataPlanePort = dataPlanePort;
      c.view.dataPlaneUrl = `http://${c.view.ingressAddress}:${dataPlanePort}`;
    }
  } catch (err) {
    await stopAll();
    throw err;
  }

  const byName = (name: string): RunningCluster => {
    const found = clusters.find((c) => c.view.name === name);
    if (!found) throw new Error(`no sandbox cluster named "${name}"`);
    return found;
  };
  const views = (): ClusterView[] => clusters.map((c) => ({ ...c.view, fault: c.fault }));
  const setFault = async (name: string, fault: SandboxFault): Promise<void> => {
    const cluster = byName(name);
    cluster.fault = fault;
    if (fault === 'api-unreachable' || fault === 'both') await cluster.api.close();
    else await cluster.api.listen();
  };

  const control = new ReopenableServer(
    createHttpServer((req, res) => void handleControlRequest({ clusters: views, setFault }, req, res)),
    '127.0.0.1',
  );
  const controlUrl = `http://127.0.0.1:${await control.listen(0)}`;
  await mkdir(dir, { recursive: true });
  await writeFile(
    kubeconfigPath,
    renderKubeconfig(
      clusters.map((c) => ({ name: c.view.name, server: c.view.apiUrl })),
      certificate.cert,
      token,
    ),
    { mode: 0o600 },
  );
  const controlStateFile = join(dir, STATE_FILE);
  const state: SandboxState = { pid: process.pid, controlUrl, kubeconfigPath, startedAt: clock.now(), clusters: views() };
  await writeFile(controlStateFile, `${JSON.stringify(state, null, 2)}\n`);

  return {
    kubeconfigPath,
    controlUrl,
    token,
    clusters: clusters.map((c) => c.view),
    setFault,
    fault: (name) => byName(name).fault,
    stats: (name) => {
      const { byVerb } = byName(name);
      return { requests: Object.values(byVerb).reduce((a, b) => a + b, 0), byVerb: { ...byVerb } };
    },
    resetStats: () => {
      for (const c of clusters) for (const verb of Object.keys(c.byVerb)) delete c.byVerb[verb];
    },
    stop: async () => {
      await stopAll();
      await control.close();
      await rm(controlStateFile, { force: true });
    },
  };
}
