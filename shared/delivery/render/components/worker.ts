import type { WorkerProperties } from '../../model/components/workloads.ts';
import type { KubeObject } from '../../model/kube.ts';
import { LABEL_COMPONENT } from '../../model/ownership.ts';
import {
  type ComponentContext,
  envList,
  imagePullSecrets,
  podMetadata,
  podVolumes,
  probe,
  resources,
  setIf,
  setList,
  workloadLabels,
} from './pod.ts';

/**
 * `worker` (vela-templates/definitions/internal/component/worker.cue): a Deployment like
 * webservice's without ports, Service, args, pod labels or annotations, limits or host aliases.
 */
export function renderWorker(props: WorkerProperties, ctx: ComponentContext): KubeObject[] {
  const container: Record<string, unknown> = { name: ctx.componentName, image: props.image };
  setIf(container, 'imagePullPolicy', props.imagePullPolicy);
  setIf(container, 'command', props.cmd);
  setList(container, 'env', props.env && envList(props.env));
  setIf(container, 'resources', resources(props.cpu, props.memory));
  const volumes = podVolumes(props.volumeMounts, props.volumes);
  setList(container, 'volumeMounts', volumes?.volumeMounts);
  setIf(container, 'livenessProbe', props.livenessProbe && probe(props.livenessProbe));
  setIf(container, 'readinessProbe', props.readinessProbe && probe(props.readinessProbe));

  const podSpec: Record<string, unknown> = { containers: [container] };
  setList(podSpec, 'imagePullSecrets', props.imagePullSecrets && imagePullSecrets(props.imagePullSecrets));
  setList(podSpec, 'volumes', volumes?.volumes);
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: ctx.componentName, labels: workloadLabels('worker') },
      spec: {
        selector: { matchLabels: { [LABEL_COMPONENT]: ctx.componentName } },
        template: { metadata: podMetadata(ctx), spec: podSpec },
      },
    },
  ];
}
