import type { FcContext } from '#shared/platform/triggers/fc.ts';
import { cloudWorkflowDeps } from '../cloud.ts';
import { createDeployStepHandler } from './handler.ts';

/** FC entry point (handler `index.handler`): async invocations (one task each) and the sweep timer. */
export const handler = (event: Buffer, context: FcContext) => createDeployStepHandler(() => cloudWorkflowDeps(context))(event, context);
