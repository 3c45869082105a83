import type { TaskProperties } from '../../model/components/workloads.ts';
import type { KubeObject } from '../../model/kube.ts';
import {
  type ComponentContext,
  envList,
  imagePullSecrets,
  podMetadata,
  podVolumes,
  resources,
  setIf,
  setList,
  workloadLabels,
} from './pod.ts';

/**
 * `task` (vela-templates/definitions/internal/component/task.cue): a batch/v1 Job named
 * `<application>-<component>`, `count` pods in parallel and to complete, restart policy `restart`.
 */
export function renderTask(props: TaskProperties, ctx: ComponentContext): KubeObject[] {
  const container: Record<string, unknown> = { name: ctx.componentName, image: props.image };
  setIf(container, 'imagePullPolicy', props.imagePullPolicy);
  setIf(container, 'command', props.cmd);
  setList(container, 'env', props.env && envList(props.env));
  setIf(container, 'resources', resources(props.cpu, props.memory));
  const volumes = podVolumes(undefined, props.volumes);
  setList(container, 'volumeMounts', volumes?.volumeMounts);

  const podSpec: Record<string, unknown> = { restartPolicy: props.restart, containers: [container] };
  setList(podSpec, 'volumes', volumes?.volumes);
  setList(podSpec, 'imagePullSecrets', props.imagePullSecrets && imagePullSecrets(props.imagePullSecrets));
  return [
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: `${ctx.appName}-${ctx.componentName}`, labels: workloadLabels('task') },
      spec: {
        parallelism: props.count,
        completions: props.count,
        template: { metadata: podMetadata(ctx, props.labels, props.annotations), spec: podSpec },
      },
    },
  ];
}
