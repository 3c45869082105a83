/**
 * The adapter options a GTM contract subject builds its adapters from, for either generation
 * (gtm.contract.ts, cloudgtm.contract.ts) and either GTM (the msw fakes, the emulator): one attempt
 * per call (the suites assert the first answer), the list PageSize the suite asks for, and a wrong
 * secret when the suite asks for one.
 */
import type { AlidnsRpcOptions } from '#shared/traffic/adapters/aliyun/alidns-rpc.ts';
import type { Logger } from '#shared/platform/log.ts';

export interface GtmSubjectTarget {
  endpoint: string;
  instanceId: string;
  key: { accessKeyId: string; accessKeySecret: string };
  logger?: Logger;
}

export function subjectAdapterOptions(
  target: GtmSubjectTarget,
  asked: { pageSize?: number; wrongSecret?: boolean },
): AlidnsRpcOptions & { instanceId: string } {
  return {
    endpoint: target.endpoint,
    instanceId: target.instanceId,
    credentials: { ...target.key, accessKeySecret: asked.wrongSecret ? 'wrong-secret' : target.key.accessKeySecret },
    maxAttempts: 1,
    ...(target.logger ? { logger: target.logger } : {}),
    ...(asked.pageSize ? { pageSize: asked.pageSize } : {}),
  };
}
