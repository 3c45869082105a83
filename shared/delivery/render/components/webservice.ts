import type { PortParameter, WebserviceProperties } from '../../model/components/workloads.ts';
import type { KubeObject } from '../../model/kube.ts';
import { LABEL_COMPONENT } from '../../model/ownership.ts';
import {
  type ComponentContext,
  envList,
  hostAliases,
  imagePullSecrets,
  outputLabels,
  podMetadata,
  podVolumes,
  probe,
  resources,
  setIf,
  setList,
  workloadLabels,
} from './pod.ts';

/**
 * `webservice` (vela-templates/definitions/internal/component/webservice.cue): a Deployment named
 * after the component, selecting its pods by `app.oam.dev/component`, and a Service of the same
 * name (`exposeType`) when a port has `expose: true`.
 */

/** `port-<n>`, with `-udp` / `-sctp` for other protocols, unless the port is named. */
export function portName(p: { name?: string | undefined; protocol: string }, number: number): string {
  if (p.name !== undefined) return p.name;
  const base = `port-${number}`;
  return p.protocol === 'TCP' ? base : `${base}-${p.protocol.toLowerCase()}`;
}

function containerPorts(props: WebserviceProperties): Record<string, unknown>[] | undefined {
  if (props.ports !== undefined) {
    return props.ports.map((p) => {
      const containerPort = p.containerPort ?? p.port;
      return { containerPort, protocol: p.protocol, name: portName(p, containerPort) };
    });
  }
  return props.port === undefined ? undefined : [{ containerPort: props.port }];
}

function servicePort(p: PortParameter, exposeType: WebserviceProperties['exposeType']): Record<string, unknown> {
  const targetPort = p.containerPort ?? p.port;
  const port: Record<string, unknown> = { port: p.port, targetPort, name: portName(p, targetPort), protocol: p.protocol };
  if (p.nodePort !== undefined && exposeType === 'NodePort') port.nodePort = p.nodePort;
  return port;
}

export function renderWebservice(props: WebserviceProperties, ctx: ComponentContext): KubeObject[] {
  const container: Record<string, unknown> = { name: ctx.componentName, image: props.image };
  setList(container, 'ports', containerPorts(props));
  setIf(container, 'imagePullPolicy', props.imagePullPolicy);
  setIf(container, 'command', props.cmd);
  setIf(container, 'args', props.args);
  setList(container, 'env', props.env && envList(props.env));
  setIf(container, 'resources', resources(props.cpu, props.memory, props.limit));
  const volumes = podVolumes(props.volumeMounts, props.volumes);
  setList(container, 'volumeMounts', volumes?.volumeMounts);
  setIf(container, 'livenessProbe', props.livenessProbe && probe(props.livenessProbe));
  setIf(container, 'readinessProbe', props.readinessProbe && probe(props.readinessProbe));

  const podSpec: Record<string, unknown> = { containers: [container] };
  setList(podSpec, 'hostAliases', props.hostAliases && hostAliases(props.hostAliases));
  setList(podSpec, 'imagePullSecrets', props.imagePullSecrets && imagePullSecrets(props.imagePullSecrets));
  setList(podSpec, 'volumes', volumes?.volumes);

  const deployment: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: ctx.componentName, labels: workloadLabels('webservice') },
    spec: {
      selector: { matchLabels: { [LABEL_COMPONENT]: ctx.componentName } },
      template: { metadata: podMetadata(ctx, props.labels, props.annotations), spec: podSpec },
    },
  };
  const exposed = (props.ports ?? []).filter((p) => p.expose);
  if (exposed.length === 0) return [deployment];
  const service: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: ctx.componentName, labels: outputLabels('AuxiliaryWorkload', 'webserviceExpose') },
    spec: {
      selector: { [LABEL_COMPONENT]: ctx.componentName },
      ports: exposed.map((p) => servicePort(p, props.exposeType)),
      type: props.exposeType,
    },
  };
  return [deployment, service];
}
