/**
 * The sandbox proven against the real thing: one request sequence (differential-steps.ts) sent to a
 * real kube-apiserver 1.20 and to the sandbox, every answer compared after server-set fields are
 * taken out (differential-compare.ts). A difference fails its step unless it is listed in
 * KNOWN_DIFFERENCES, which mirrors docs/sandbox-vs-kube-apiserver.md; a listed difference that no
 * longer shows fails too, so the list and the document stay true.
 *
 * Both sides run their controllers: a Deployment's status is written after each spec change (on the
 * real server by the envtest workload simulator), never becoming ready here (the delay is an hour).
 * Before each step both sides are let settle, so controller writes land in the same place.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '#sandbox/index.ts';
import { kubeBinariesAvailable, type RealCluster, startKubeApiServer } from '../helpers/envtest.ts';
import { rawRequest } from '../helpers/kube-raw.ts';
import { waitForObject } from '../helpers/kube-watch.ts';
import {
  compareResponses,
  describeDifferences,
  type Difference,
  normalizeResponse,
  type NormalizedResponse,
} from './differential-compare.ts';
import { NAMESPACE, STEPS } from './differential-steps.ts';
import { KNOWN_DIFFERENCES, type KnownDifference } from './differential-known.ts';

const NEVER_MS = 3_600_000;
const CLUSTER = 'diff-cluster';

interface Side {
  label: string;
  kubeConfig: KubeConfig;
}

/** Waits until the controllers have reacted to the Deployment's last spec change (if it exists). */
async function settle(side: Side): Promise<void> {
  const path = `/apis/apps/v1/namespaces/${NAMESPACE}/deployments`;
  const current = await rawRequest(side.kubeConfig, { method: 'GET', path: `${path}/web` });
  if (current.status !== 200) return;
  await waitForObject<{ metadata?: { generation?: number }; status?: { observedGeneration?: number } }>(
    side.kubeConfig,
    path,
    'web',
    (d, phase) => phase === 'DELETED' || (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1),
    10_000,
  );
}

describe.skipIf(!kubeBinariesAvailable())('differential: sandbox vs real kube-apiserver 1.20', () => {
  let real: RealCluster | undefined;
  let sandbox: Sandbox | undefined;
  let sandboxDir: string;
  const sides: { real?: Side; sandbox?: Side } = {};
  const report: Array<{ step: string; real: NormalizedResponse; sandbox: NormalizedResponse; differences: Difference[] }> = [];

  beforeAll(async () => {
    sandboxDir = mkdtempSync(join(tmpdir(), 'tricenter-differential-'));
    // Assigned one by one, so that afterAll stops whichever started when the other did not.
    sandbox = await startSandbox({
      clusters: [{ name: CLUSTER, aliases: [], labels: {} }],
      dir: sandboxDir,
      readyDelayMs: NEVER_MS,
      dataPlanePort: 0,
    });
    real = await startKubeApiServer({ contextName: CLUSTER, deploymentReadyDelayMs: NEVER_MS });
    const sandboxConfig = new KubeConfig();
    sandboxConfig.loadFromFile(sandbox.kubeconfigPath);
    sandboxConfig.setCurrentContext(CLUSTER);
    sides.real = { label: 'real', kubeConfig: real.kubeConfig };
    sides.sandbox = { label: 'sandbox', kubeConfig: sandboxConfig };
  });

  afterAll(async () => {
    // TRICENTER_DIFF_REPORT=<file> keeps every answer of both sides, to write up new differences.
    if (process.env.TRICENTER_DIFF_REPORT) writeFileSync(process.env.TRICENTER_DIFF_REPORT, `${JSON.stringify(report, null, 2)}\n`);
    await Promise.all([real?.stop(), sandbox?.stop()]);
    if (sandboxDir) rmSync(sandboxDir, { recursive: true, force: true });
  });

  it('every known difference names a step of the sequence', () => {
    const names = new Set(STEPS.map((s) => s.name));
    expect(Object.keys(KNOWN_DIFFERENCES).filter((name) => !names.has(name))).toEqual([]);
  });

  for (const step of STEPS) {
    it(step.name, async () => {
      const realSide = sides.real as Side;
      const sandboxSide = sides.sandbox as Side;
      await Promise.all([settle(realSide), settle(sandboxSide)]);
      const realAnswer = normalizeResponse(await rawRequest(realSide.kubeConfig, step));
      const sandboxAnswer = normalizeResponse(await rawRequest(sandboxSide.kubeConfig, step));
      const differences = compareResponses(realAnswer, sandboxAnswer);
      report.push({ step: step.name, real: realAnswer, sandbox: sandboxAnswer, differences });

      const known = KNOWN_DIFFERENCES[step.name] ?? [];
      const covers = (entry: KnownDifference, d: Difference): boolean =>
        entry.paths.some((p) => d.path === p || d.path.startsWith(`${p}.`) || d.path.startsWith(`${p}[`));
      const unexplained = differences.filter((d) => !known.some((entry) => covers(entry, d)));
      expect(unexplained, `sandbox differs from kube-apiserver:\n${describeDifferences(unexplained)}`).toEqual([]);
      const gone = known.filter((entry) => !differences.some((d) => covers(entry, d)));
      expect(
        gone.map((entry) => `${entry.id}: ${entry.summary}`),
        'documented differences no longer seen: remove them from differential-known.ts and docs/sandbox-vs-kube-apiserver.md',
      ).toEqual([]);
    });
  }
});
