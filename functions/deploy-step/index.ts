import { cloudWorkflowDeps } from '../cloud.ts';
import { createDeployStepHandler } from './handler.ts';

/** FC entry point (handler `index.handler`): async invocations (one task each) and the sweep timer. */
export const handler = createDeployStepHandler(cloudWorkflowDeps);
