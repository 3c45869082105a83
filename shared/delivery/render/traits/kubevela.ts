import type { KubeVelaTrait } from '../../model/kubevela-traits.ts';
import type { KubeObject } from '../../model/kube.ts';
import { applyStorage, exposeOutputs, gatewayOutputs } from './output-traits.ts';
import {
  applyAffinity,
  applyCommand,
  applyContainerImage,
  applyHostalias,
  applyInitContainer,
  applyResource,
  applySidecar,
} from './pod-traits.ts';

/**
 * Applies one of KubeVela's built-in pod or output traits to `object` (in place) and returns the
 * objects the trait adds beside it (gateway's Service and Ingress, expose's Service, storage's
 * PVCs, ConfigMaps and Secrets), to be appended to the component's objects.
 */
export function applyKubeVelaTrait(object: KubeObject, trait: KubeVelaTrait, componentName: string, label: string): KubeObject[] {
  switch (trait.type) {
    case 'sidecar':
      applySidecar(object, trait, label);
      return [];
    case 'init-container':
      applyInitContainer(object, trait, componentName, label);
      return [];
    case 'container-image':
      applyContainerImage(object, trait, componentName, label);
      return [];
    case 'command':
      applyCommand(object, trait, componentName, label);
      return [];
    case 'resource':
      applyResource(object, trait, label);
      return [];
    case 'hostalias':
      applyHostalias(object, trait, label);
      return [];
    case 'affinity':
      applyAffinity(object, trait, label);
      return [];
    case 'gateway':
      return gatewayOutputs(trait, componentName);
    case 'expose':
      return exposeOutputs(trait, componentName);
    case 'storage':
      return applyStorage(object, trait, label);
  }
}
