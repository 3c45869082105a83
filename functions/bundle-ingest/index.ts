import { cloudWorkflowDeps } from '../cloud.ts';
import { createBundleIngestHandler } from './handler.ts';

/** FC entry point (handler `index.handler`): the OSS trigger of bundles/. */
export const handler = createBundleIngestHandler(cloudWorkflowDeps);
