import { refKey, objectRef, type KubeObject } from '../model/kube.ts';
import type { Plan } from '../model/plan.ts';

/**
 * Read-only views of a plan for people (the `render` and `plan` commands).
 */

/**
 * What each cluster ends up with: the union of its manifests over the steps in step order; an
 * object a later step deploys again replaces the earlier one in place (the later apply wins).
 * Clusters appear in the order the plan first reaches them.
 */
export function manifestsByCluster(plan: Plan): Map<string, KubeObject[]> {
  const byCluster = new Map<string, Map<string, KubeObject>>();
  for (const step of plan.steps) {
    if (step.type !== 'deploy') continue;
    for (const target of step.targets) {
      const objects = byCluster.get(target.cluster) ?? new Map<string, KubeObject>();
      for (const manifest of target.manifests) objects.set(refKey(objectRef(manifest)), manifest);
      byCluster.set(target.cluster, objects);
    }
  }
  return new Map([...byCluster].map(([cluster, objects]) => [cluster, [...objects.values()]]));
}

/** `10m`, `1h30m`, `45s`, `500ms`: the inverse of the workflow's duration parser, for display. */
function formatDuration(ms: number): string {
  if (ms % 1000 !== 0) return `${ms}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = Math.floor((ms % 60_000) / 1000);
  const text = `${hours ? `${hours}h` : ''}${minutes ? `${minutes}m` : ''}${seconds ? `${seconds}s` : ''}`;
  return text || '0s';
}

export interface PlanRow {
  step: string;
  type: string;
  approval: string;
  parallelism: string;
  timeout: string;
  clusters: string;
  objects: string;
}

export function planRows(plan: Plan): PlanRow[] {
  return plan.steps.map((step, i) => {
    if (step.type === 'suspend') {
      return {
        step: `${i + 1}. ${step.group ? `${step.group}/` : ''}${step.name}`,
        type: 'suspend',
        approval: step.durationMs === undefined ? 'resume' : `after ${formatDuration(step.durationMs)}`,
        parallelism: '-',
        timeout: step.timeoutMs === undefined ? 'none' : formatDuration(step.timeoutMs),
        clusters: '-',
        objects: '-',
      };
    }
    return {
      step: `${i + 1}. ${step.group ? `${step.group}/` : ''}${step.name}`,
      type: 'deploy',
      approval: step.needsApproval ? 'required' : 'auto',
      parallelism: String(step.parallelism),
      timeout: formatDuration(step.timeoutMs),
      clusters: step.targets.map((t) => t.cluster).join(', ') || '(none)',
      objects: step.targets.map((t) => t.manifests.length).join(', ') || '0',
    };
  });
}

/** A plain text table with a header, columns padded to their widest cell. */
export function formatTable(rows: PlanRow[]): string {
  const header: PlanRow = {
    step: 'STEP',
    type: 'TYPE',
    approval: 'APPROVAL',
    parallelism: 'PARALLEL',
    timeout: 'TIMEOUT',
    clusters: 'CLUSTERS',
    objects: 'OBJECTS',
  };
  const all = [header, ...rows];
  const keys = Object.keys(header) as Array<keyof PlanRow>;
  const widths = keys.map((k) => Math.max(...all.map((r) => r[k].length)));
  return all
    .map((r) =>
      keys
        .map((k, i) => r[k].padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
