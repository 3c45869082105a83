import type { CronTaskProperties } from '../../model/components/workloads.ts';
import type { KubeObject } from '../../model/kube.ts';
import {
  type ComponentContext,
  envList,
  hostAliases,
  imagePullSecrets,
  podMetadata,
  podVolumes,
  resources,
  setIf,
  setList,
  workloadLabels,
} from './pod.ts';

/**
 * `cron-task` (vela-templates/definitions/internal/component/cron-task.cue): a CronJob named
 * after the component. Always batch/v1: KubeVela picks batch/v1beta1 for clusters before 1.25,
 * which no longer serve CronJobs at all from 1.25 on; tricenter renders without asking a cluster.
 */
export function renderCronTask(props: CronTaskProperties, ctx: ComponentContext): KubeObject[] {
  const container: Record<string, unknown> = { name: ctx.componentName, image: props.image };
  setIf(container, 'imagePullPolicy', props.imagePullPolicy);
  setIf(container, 'command', props.cmd);
  setList(container, 'env', props.env && envList(props.env));
  setIf(container, 'resources', resources(props.cpu, props.memory));
  const volumes = podVolumes(props.volumeMounts, props.volumes);
  setList(container, 'volumeMounts', volumes?.volumeMounts);

  const podSpec: Record<string, unknown> = { restartPolicy: props.restart, containers: [container] };
  setList(podSpec, 'volumes', volumes?.volumes);
  setList(podSpec, 'imagePullSecrets', props.imagePullSecrets && imagePullSecrets(props.imagePullSecrets));
  setList(podSpec, 'hostAliases', props.hostAliases && hostAliases(props.hostAliases));

  const jobSpec: Record<string, unknown> = { parallelism: props.count, completions: props.count };
  setIf(jobSpec, 'ttlSecondsAfterFinished', props.ttlSecondsAfterFinished);
  setIf(jobSpec, 'activeDeadlineSeconds', props.activeDeadlineSeconds);
  jobSpec.backoffLimit = props.backoffLimit;
  jobSpec.template = { metadata: podMetadata(ctx, props.labels, props.annotations), spec: podSpec };

  const spec: Record<string, unknown> = {
    schedule: props.schedule,
    concurrencyPolicy: props.concurrencyPolicy,
    suspend: props.suspend,
    successfulJobsHistoryLimit: props.successfulJobsHistoryLimit,
    failedJobsHistoryLimit: props.failedJobsHistoryLimit,
  };
  setIf(spec, 'startingDeadlineSeconds', props.startingDeadlineSeconds);
  spec.jobTemplate = { spec: jobSpec };
  return [{ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: ctx.componentName, labels: workloadLabels('cron-task') }, spec }];
}
