import type { FcContext } from '#shared/platform/triggers/fc.ts';
import { cloudApprovalLinks, cloudBase, cloudWorkflowDeps, parseApprovalTokens, storeReplayGuard } from '../cloud.ts';
import { createApprovalHandler } from './handler.ts';

/** FC entry point (handler `index.handler`): the HTTP trigger (anonymous; authentication is ours). */
export const handler = createApprovalHandler(async (context: FcContext) => {
  const base = await cloudBase(context);
  const { config, store } = base;
  return {
    ...(await cloudWorkflowDeps(context)),
    auth: {
      tokens: parseApprovalTokens(config.TRICENTER_APPROVAL_TOKENS),
      ...(config.TRICENTER_APPROVAL_HMAC_SECRET ? { hmacSecret: config.TRICENTER_APPROVAL_HMAC_SECRET } : {}),
    },
    replay: storeReplayGuard(store, config.TRICENTER_BUCKET),
    bucket: config.TRICENTER_BUCKET,
    links: cloudApprovalLinks(base),
  };
});
