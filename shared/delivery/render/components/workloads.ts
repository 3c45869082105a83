import type { WorkloadComponentProperties } from '../../model/components/workloads.ts';
import type { KubeObject } from '../../model/kube.ts';
import { renderCronTask } from './cron-task.ts';
import type { ComponentContext } from './pod.ts';
import { renderTask } from './task.ts';
import { renderWebservice } from './webservice.ts';
import { renderWorker } from './worker.ts';

/** The objects a built-in component type renders to: its workload first, then its own outputs. */
export function renderWorkloadComponent(typed: WorkloadComponentProperties, ctx: ComponentContext): KubeObject[] {
  switch (typed.type) {
    case 'webservice':
      return renderWebservice(typed.properties, ctx);
    case 'worker':
      return renderWorker(typed.properties, ctx);
    case 'task':
      return renderTask(typed.properties, ctx);
    case 'cron-task':
      return renderCronTask(typed.properties, ctx);
  }
}
