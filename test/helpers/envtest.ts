/**
 * A real Kubernetes control plane for tests, like controller-runtime's envtest: etcd, kube-apiserver
 * and a kube-controller-manager limited to the namespace, garbage-collector and service-account
 * controllers, all on free 127.0.0.1 ports, with no kubelet. The binaries come from the cache that
 * `bash scripts/kube/build-apiserver.sh` fills; etcd from Debian's etcd-server.
 *
 * Since nothing runs pods, a workload simulator (envtest-workloads.ts) plays kubelet, deployment
 * controller and ingress controller: Deployments become ready after a delay, Ingresses get an address.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify as toYaml } from 'yaml';
import {
  freeLoopbackPorts,
  httpGetStatus,
  logTail,
  makeCertificates,
  startProcess,
  stopProcess,
  waitUntilReady,
} from './envtest-process.ts';
import { type ReachabilityProxy, startReachabilityProxy } from './envtest-proxy.ts';
import { startWorkloadSimulator, type WorkloadSimulator } from './envtest-workloads.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILD_COMMAND = 'bash scripts/kube/build-apiserver.sh';

/** The upstream version the build script produces; the cache is keyed by it. */
const KUBE_VERSION = readFileSync(join(REPO_ROOT, 'scripts/kube/VERSION'), 'utf8').trim();

interface KubeBinaries {
  kubeApiserver: string;
  kubeControllerManager: string;
  etcd: string;
}

function kubeCacheBinDir(): string {
  const root = process.env.TRICENTER_KUBE_CACHE || join(homedir(), '.cache/tricenter/kube');
  return join(root, KUBE_VERSION, 'bin');
}

function findEtcd(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin'].filter((dir) => dir.startsWith('/'));
  return dirs.map((dir) => join(dir, 'etcd')).find((path) => existsSync(path));
}

/** The binaries, or the list of what is missing. */
function locateKubeBinaries(): { binaries: KubeBinaries } | { missing: string[] } {
  const bin = kubeCacheBinDir();
  const kubeApiserver = join(bin, 'kube-apiserver');
  const kubeControllerManager = join(bin, 'kube-controller-manager');
  const etcd = findEtcd();
  const missing = [
    existsSync(kubeApiserver) ? undefined : kubeApiserver,
    existsSync(kubeControllerManager) ? undefined : kubeControllerManager,
    etcd ? undefined : 'etcd (Debian package etcd-server)',
  ].filter((m): m is string => m !== undefined);
  return etcd && missing.length === 0 ? { binaries: { kubeApiserver, kubeControllerManager, etcd } } : { missing };
}

let skipReasonPrinted = false;

function missingBinariesMessage(missing: string[]): string {
  return (
    `missing ${missing.join(', ')}. Build them once with \`${BUILD_COMMAND}\` ` +
    '(10-15 minutes on an idle 2-core machine; cached outside the repository).'
  );
}

/** Why the real-server suites are skipped, or undefined when they can run. */
export function kubeSkipReason(): string | undefined {
  const located = locateKubeBinaries();
  if ('binaries' in located) return undefined;
  return `real kube-apiserver suites skipped: ${missingBinariesMessage(located.missing)}`;
}

/**
 * For `describe.skipIf(!kubeBinariesAvailable())`. Prints the skip reason once per process. Where the
 * suites are required (CI sets TRICENTER_REQUIRE_KUBE=1), missing binaries are an error, not a skip.
 */
export function kubeBinariesAvailable(): boolean {
  const located = locateKubeBinaries();
  if ('binaries' in located) return true;
  if (process.env.TRICENTER_REQUIRE_KUBE === '1') {
    throw new Error(`real kube-apiserver suites are required here (TRICENTER_REQUIRE_KUBE=1): ${missingBinariesMessage(located.missing)}`);
  }
  if (!skipReasonPrinted) {
    skipReasonPrinted = true;
    console.warn(`[envtest] ${kubeSkipReason()}`);
  }
  return false;
}

export interface RealClusterOptions {
  /** Name of the cluster, user and context in the kubeconfig (several servers merge into one file). */
  contextName?: string;
  /** The address every Ingress gets (the cluster's own loopback address). Default 127.0.0.2. */
  ingressAddress?: string;
  /** Delay before a changed Deployment becomes ready. Default 300 ms. */
  deploymentReadyDelayMs?: number;
  /** Play kubelet and ingress controller (default true). */
  simulateWorkloads?: boolean;
  /** Start the controller manager (default true); without it namespaces never finish terminating. */
  controllerManager?: boolean;
  authorizationMode?: 'AlwaysAllow' | 'RBAC';
  /**
   * Put a TCP relay between the caller's kubeconfig and the server, so that `setApiReachable(false)`
   * can make the API unreachable. The controller manager and the workload simulator bypass it.
   */
  reachabilityProxy?: boolean;
  onSimulatorError?: (error: unknown, what: string) => void;
}

export interface KubeconfigEntry {
  cluster: { name: string; cluster: { server: string; 'certificate-authority-data': string } };
  user: { name: string; user: { token: string } };
  context: { name: string; context: { cluster: string; user: string } };
}

export interface RealCluster {
  contextName: string;
  /** https://127.0.0.1:PORT, what the kubeconfig points at (the relay's port when there is one). */
  server: string;
  /** Bearer token of a member of system:masters. */
  token: string;
  /** PEM of the CA that signed the serving certificate. */
  caPem: string;
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  kubeconfigEntry: KubeconfigEntry;
  /** Wall time from the call to a ready server (and controllers), in ms. */
  startMs: number;
  /** Where the start time went: ms from the call to the end of each phase. */
  startPhasesMs: { certificates: number; etcd: number; apiserver: number; controllers: number; simulator: number };
  pids: { etcd: number; apiserver: number; controllerManager?: number };
  /** Directory with certificates, etcd data and the processes' logs (removed by stop()). */
  dir: string;
  /** Refuses (false) or accepts again (true) connections to `server`; needs `reachabilityProxy`. */
  setApiReachable(reachable: boolean): Promise<void>;
  stop(): Promise<void>;
}

function kubeconfigEntryFor(name: string, server: string, caPem: string, token: string): KubeconfigEntry {
  return {
    cluster: { name, cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } },
    user: { name: `${name}-admin`, user: { token } },
    context: { name, context: { cluster: name, user: `${name}-admin` } },
  };
}

/** One kubeconfig with a context per cluster; the first is the current context. */
export function kubeconfigYaml(entries: KubeconfigEntry[]): string {
  return toYaml({
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: entries.map((e) => e.cluster),
    users: entries.map((e) => e.user),
    contexts: entries.map((e) => e.context),
    'current-context': entries[0]?.context.name ?? '',
  });
}

export function writeMergedKubeconfig(path: string, clusters: RealCluster[]): void {
  writeFileSync(path, kubeconfigYaml(clusters.map((c) => c.kubeconfigEntry)), { mode: 0o600 });
}

function isAddressInUse(error: unknown): boolean {
  return error instanceof Error && /address already in use/i.test(error.message);
}

/** Starts etcd + kube-apiserver (+ controller manager) and waits until they serve. */
export async function startKubeApiServer(options: RealClusterOptions = {}): Promise<RealCluster> {
  // Ports are picked free, then bound by another process: a suite running in parallel may take one
  // in between, so a start that lost that race is tried again on new ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      if (attempt >= 3 || !isAddressInUse(error)) throw error;
    }
  }
}

async function startOnce(options: RealClusterOptions): Promise<RealCluster> {
  const located = locateKubeBinaries();
  if (!('binaries' in located)) throw new Error(`cannot start kube-apiserver: ${missingBinariesMessage(located.missing)}`);
  const { binaries } = located;
  const began = Date.now();
  const phases = { certificates: 0, etcd: 0, apiserver: 0, controllers: 0, simulator: 0 };
  const mark = (phase: keyof typeof phases): void => {
    phases[phase] = Date.now() - began;
  };
  const contextName = options.contextName ?? 'envtest';
  const dir = mkdtempSync(join(tmpdir(), `tricenter-envtest-${contextName}-`));
  const children: { etcd?: ChildProcess; apiserver?: ChildProcess; controllerManager?: ChildProcess } = {};
  let simulator: WorkloadSimulator | undefined;
  let proxy: ReachabilityProxy | undefined;

  const stop = async (): Promise<void> => {
    await proxy?.close();
    await simulator?.stop();
    await stopProcess(children.controllerManager);
    await stopProcess(children.apiserver);
    await stopProcess(children.etcd);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const [etcdClientPort, etcdPeerPort, apiserverPort] = (await freeLoopbackPorts(3)) as [number, number, number];
    const token = randomBytes(24).toString('hex');
    writeFileSync(join(dir, 'tokens.csv'), `${token},admin,admin,"system:masters"\n`, { mode: 0o600 });
    await makeCertificates(dir);
    mark('certificates');
    const caPem = readFileSync(join(dir, 'ca.crt'), 'utf8');

    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    children.etcd = startProcess(dir, 'etcd', binaries.etcd, [
      '--name=envtest',
      `--data-dir=${join(dir, 'etcd-data')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=envtest=${peerUrl}`,
      '--logger=zap',
      '--log-level=warn',
    ]);
    await waitUntilReady(children.etcd, dir, 'etcd', async () => (await httpGetStatus(`${etcdUrl}/health`, {})) === 200, 30_000);
    mark('etcd');

    const directServer = `https://127.0.0.1:${apiserverPort}`;
    children.apiserver = startProcess(dir, 'kube-apiserver', binaries.kubeApiserver, [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiserverPort}`,
      // 1.20 still opens an insecure port 8080 by default: parallel servers would collide on it.
      '--insecure-port=0',
      `--cert-dir=${dir}`,
      '--tls-cert-file=server.crt',
      '--tls-private-key-file=server.key',
      '--client-ca-file=ca.crt',
      '--token-auth-file=tokens.csv',
      `--authorization-mode=${options.authorizationMode ?? 'AlwaysAllow'}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      '--service-account-key-file=sa.pub',
      '--service-account-signing-key-file=sa.key',
      // Only allocated, never routed: no kube-proxy runs, so no traffic goes to these addresses.
      '--service-cluster-ip-range=10.0.0.0/24',
      // The `kubernetes` Endpoints would point at 127.0.0.1, which Endpoints validation rejects.
      '--endpoint-reconciler-type=none',
      '--allow-privileged=true',
      '--profiling=false',
      '--v=1',
    ]);
    await waitUntilReady(
      children.apiserver,
      dir,
      'kube-apiserver',
      async () => (await httpGetStatus(`${directServer}/readyz`, { ca: caPem, token })) === 200,
      60_000,
    ).catch((error: unknown) => {
      const log = logTail(dir, 'kube-apiserver', 200);
      if (/address already in use/i.test(log)) throw new Error(`kube-apiserver: address already in use\n${String(error)}`);
      throw error;
    });
    mark('apiserver');

    const directKubeconfigPath = join(dir, 'direct.kubeconfig');
    writeFileSync(directKubeconfigPath, kubeconfigYaml([kubeconfigEntryFor(contextName, directServer, caPem, token)]), { mode: 0o600 });
    const directKubeConfig = new KubeConfig();
    directKubeConfig.loadFromFile(directKubeconfigPath);

    if (options.controllerManager ?? true) {
      children.controllerManager = startProcess(dir, 'kube-controller-manager', binaries.kubeControllerManager, [
        `--kubeconfig=${directKubeconfigPath}`,
        '--controllers=namespace,garbagecollector,serviceaccount,serviceaccount-token',
        '--service-account-private-key-file=sa.key',
        '--root-ca-file=ca.crt',
        '--use-service-account-credentials=false',
        '--leader-elect=false',
        // No serving at all: the insecure port (10252) and the secure one (10257) are fixed by default.
        '--port=0',
        '--secure-port=0',
        '--v=1',
      ]);
      // The serviceaccount controller creating `default` in `default` shows the controllers are running.
      await waitUntilReady(
        children.controllerManager,
        dir,
        'kube-controller-manager',
        async () =>
          (await httpGetStatus(`${directServer}/api/v1/namespaces/default/serviceaccounts/default`, { ca: caPem, token })) === 200,
        60_000,
      );
    }
    mark('controllers');

    if (options.simulateWorkloads ?? true) {
      simulator = await startWorkloadSimulator(directKubeConfig, {
        deploymentReadyDelayMs: options.deploymentReadyDelayMs ?? 300,
        ingressAddress: options.ingressAddress ?? '127.0.0.2',
        ...(options.onSimulatorError ? { onError: options.onSimulatorError } : {}),
      });
    }
    mark('simulator');

    if (options.reachabilityProxy) proxy = await startReachabilityProxy(apiserverPort);
    const server = proxy ? `https://127.0.0.1:${proxy.port}` : directServer;
    const kubeconfigEntry = kubeconfigEntryFor(contextName, server, caPem, token);
    const kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(kubeconfigPath, kubeconfigYaml([kubeconfigEntry]), { mode: 0o600 });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);

    const setApiReachable = async (reachable: boolean): Promise<void> => {
      if (!proxy) throw new Error(`cluster ${contextName} was started without reachabilityProxy: its API cannot be cut`);
      await proxy.setReachable(reachable);
    };
    const pids = {
      etcd: children.etcd.pid ?? -1,
      apiserver: children.apiserver.pid ?? -1,
      ...(children.controllerManager?.pid ? { controllerManager: children.controllerManager.pid } : {}),
    };
    return {
      contextName,
      server,
      token,
      caPem,
      kubeconfigPath,
      kubeConfig,
      kubeconfigEntry,
      startMs: Date.now() - began,
      startPhasesMs: phases,
      pids,
      dir,
      setApiReachable,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Resident memory (bytes) of the cluster's processes, from /proc: for the benchmark and the report. */
export function clusterMemoryBytes(cluster: RealCluster): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, pid] of Object.entries(cluster.pids)) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      out[name] = kb * 1024;
    } catch {
      out[name] = 0;
    }
  }
  return out;
}
