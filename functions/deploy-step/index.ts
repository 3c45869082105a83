import type { FcContext } from '#shared/platform/triggers/fc.ts';
import { cloudBase, cloudWorkflowDeps, fcQueueTo } from '../cloud.ts';
import { createDeployStepHandler, type DriftShardMessage } from './handler.ts';

/**
 * FC entry point (handler `index.handler`): async invocations (one task each, or a shard of a split
 * state-keeping round, which this function sends itself) and the sweep timer.
 */
export const handler = createDeployStepHandler(async (context: FcContext) => {
  const [deps, b] = await Promise.all([cloudWorkflowDeps(context), cloudBase(context)]);
  return {
    ...deps,
    // Drift shards are async invocations of this very function (the request its deploy tasks go out with).
    driftShards: fcQueueTo<DriftShardMessage>(b, context, b.config.TRICENTER_DEPLOY_STEP_FUNCTION),
  };
});
