import { systemClock } from '#shared/platform/clock.ts';
import type { FcContext } from '#shared/platform/triggers/fc.ts';
import { cloudBase } from '../cloud.ts';
import { createGtmReconcileHandler } from './handler.ts';

/** FC entry point (handler `index.handler`): the minute timer, and step-finished async invocations. */
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
  };
});
