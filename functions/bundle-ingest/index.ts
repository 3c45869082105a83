import type { FcContext } from '#shared/platform/triggers/fc.ts';
import { cloudWorkflowDeps } from '../cloud.ts';
import { createBundleIngestHandler } from './handler.ts';

/** FC entry point (handler `index.handler`): the OSS trigger of bundles/. */
export const handler = (event: Buffer, context: FcContext) => createBundleIngestHandler(() => cloudWorkflowDeps(context))(event, context);
