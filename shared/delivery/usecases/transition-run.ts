import { ConflictError, NotFoundError } from '../../platform/errors.ts';
import type { RunStore } from '../ports/run-store.port.ts';
import type { Run, Transition } from '../workflow/run.ts';

/**
 * Reads a run, applies `decide` and writes the result conditionally; on a conflict it reloads and
 * decides again (another writer moved the run on). Returns the last transition, whose effects the
 * caller performs only after this resolves — so effects follow a successful write, never precede it.
 */
export async function transitionRun(
  store: RunStore,
  runId: string,
  decide: (run: Run) => Transition,
  options: { maxAttempts?: number } = {},
): Promise<Transition> {
  const maxAttempts = options.maxAttempts ?? 10;
  let lastConflict: unknown;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const run = await store.getRun(runId);
    if (!run) throw new NotFoundError(`run ${runId} does not exist`);
    const transition = decide(run);
    if (!transition.changed) return transition;
    try {
      const stored = await store.updateRun(transition.run, run.version);
      return { ...transition, run: stored };
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      lastConflict = err;
    }
  }
  throw new ConflictError(`run ${runId}: still conflicting after ${maxAttempts} attempts`, { cause: lastConflict });
}
