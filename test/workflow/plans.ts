import type { DeployStep, Plan, PlanStep, SuspendStep } from '#shared/delivery/model/plan.ts';
import { DEFAULT_STEP_TIMEOUT_MS } from '#shared/delivery/model/plan.ts';
import { next } from '#shared/delivery/workflow/decider.ts';
import type { Effect, Run, RunEvent, Transition } from '#shared/delivery/workflow/run.ts';

/** Plans and a small driver for decider tests: manifests do not matter to the decider, so targets carry none. */

export function deployStep(
  name: string,
  clusters: string[],
  options: Partial<Omit<DeployStep, 'name' | 'type' | 'targets'>> = {},
): DeployStep {
  return {
    name,
    type: 'deploy',
    needsApproval: options.needsApproval ?? false,
    parallelism: options.parallelism ?? 5,
    timeoutMs: options.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS,
    targets: clusters.map((cluster) => ({ cluster, manifests: [] })),
  };
}

/** A suspend step; without `timeoutMs` it waits as long as it takes (KubeVela's default). */
export function suspendStep(name: string, durationMs?: number, timeoutMs?: number): SuspendStep {
  const step: SuspendStep = { name, type: 'suspend' };
  if (durationMs !== undefined) step.durationMs = durationMs;
  if (timeoutMs !== undefined) step.timeoutMs = timeoutMs;
  return step;
}

/** The same step as a sub-step of a step-group, optionally after siblings. */
export function inGroup<S extends PlanStep>(group: string, step: S, dependsOn?: string[]): S {
  const out = { ...step, group };
  if (dependsOn !== undefined) out.dependsOn = dependsOn;
  return out;
}

export function plan(steps: PlanStep[], publishVersion = 'version8'): Plan {
  return { app: { namespace: 'demo', name: 'web-demo' }, publishVersion, contentHash: 'sha256:test', steps };
}

/** The seed: cluster1-beijing, then an approval gate, cluster2-beijing, then cluster1-hangzhou. */
export const seedPlan = plan([
  deployStep('deploy-cluster1-beijing', ['cluster1-beijing']),
  deployStep('deploy-cluster2-beijing', ['cluster2-beijing'], { needsApproval: true }),
  deployStep('deploy-cluster1-hangzhou', ['cluster1-hangzhou']),
]);

/** Feeds events to the decider like a store would: only changed runs replace the current one. */
export class Driver {
  readonly history: Transition[] = [];
  constructor(
    public run: Run,
    public now = 1_000_000,
  ) {}

  apply(event: RunEvent, at = this.now): Transition {
    this.now = at;
    // Every run the decider sees is frozen: a decider that mutates its input throws in every table test.
    const result = next(deepFreeze(this.run), event, at);
    this.history.push(result);
    if (result.changed) this.run = result.run;
    return result;
  }

  report(step: string, cluster: string, outcome: 'done' | 'waiting' | 'failed' | 'retry', at = this.now): Transition {
    const attempt = this.task(step, cluster).attempt;
    const reported =
      outcome === 'done'
        ? ({ kind: 'done' } as const)
        : outcome === 'waiting'
          ? ({ kind: 'waiting', message: '3/5 replicas ready' } as const)
          : ({
              kind: 'failed',
              message: outcome === 'retry' ? 'cluster unreachable' : 'invalid Deployment spec',
              retryable: outcome === 'retry',
            } as const);
    return this.apply({ type: 'task-reported', step, cluster, attempt, outcome: reported }, at);
  }

  step(name: string) {
    const found = this.run.steps.find((s) => s.name === name);
    if (!found) throw new Error(`no step ${name}`);
    return found;
  }

  task(step: string, cluster: string) {
    const found = this.step(step).tasks.find((t) => t.cluster === cluster);
    if (!found) throw new Error(`no task ${step}/${cluster}`);
    return found;
  }
}

export function effectTypes(effects: Effect[]): string[] {
  return effects.map((e) => e.type);
}

export function sentKeys(effects: Effect[]): string[] {
  return effects.flatMap((e) => (e.type === 'send-tasks' ? e.tasks.map((t) => t.key) : []));
}

/** Freezes a value deeply so that a decider mutating its input throws. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
