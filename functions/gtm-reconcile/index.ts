import { systemClock } from '#shared/platform/clock.ts';
import type { FcContext } from '#shared/platform/triggers/fc.ts';
import { cloudBase, fcQueueTo } from '../cloud.ts';
import { createGtmReconcileHandler, type TrafficShardMessage } from './handler.ts';

/**
 * FC entry point (handler `index.handler`): the minute timer, step-finished async invocations, and
 * the shards of a timer round too large for one invocation, which this function sends itself.
 */
export const handler = createGtmReconcileHandler(async (context: FcContext) => {
  const [b, { AlidnsGtm }, { AlidnsCloudGtm }] = await Promise.all([
    cloudBase(context),
    import('#shared/traffic/adapters/aliyun/alidns-gtm.ts'),
    import('#shared/traffic/adapters/aliyun/alidns-cloudgtm.ts'),
  ]);
  return {
    store: b.store,
    registry: b.registry,
    gateway: b.gateway,
    // Built per invocation: the STS keys it signs with are this invocation's.
    gtmFor: (instanceId, version) => {
      const options = {
        endpoint: 'https://alidns.aliyuncs.com',
        instanceId: instanceId ?? b.config.TRICENTER_GTM_INSTANCE_ID,
        credentials: b.credentials.provider(),
        logger: b.logger,
      };
      return version === '3.0' ? new AlidnsCloudGtm(options) : new AlidnsGtm(options);
    },
    history: b.trafficHistory,
    clock: systemClock,
    logger: b.logger,
    dryRun: b.config.TRICENTER_GTM_DRY_RUN === 'true',
    // Shards are async invocations of this very function (the same request deploy-step sends it a step-finished with).
    shards: fcQueueTo<TrafficShardMessage>(b, context, b.config.TRICENTER_GTM_FUNCTION),
  };
});
