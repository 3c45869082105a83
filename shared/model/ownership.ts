/**
 * Labels and annotations that mark what tricenter deployed. Pruning and listing select on the
 * labels only, so an object without them is never touched.
 */
export const LABEL_APP_NAME = 'app.oam.dev/name';
export const LABEL_APP_NAMESPACE = 'app.oam.dev/namespace';
export const LABEL_COMPONENT = 'app.oam.dev/component';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'tricenter';

export const ANNOTATION_PUBLISH_VERSION = 'app.oam.dev/publishVersion';
export const ANNOTATION_CONTENT_HASH = 'tricenter.io/content-hash';

/** The field manager used for every server-side apply. */
export const FIELD_MANAGER = 'tricenter';

export interface AppRef {
  namespace: string;
  name: string;
}

export function appKey(app: AppRef): string {
  return `${app.namespace}/${app.name}`;
}

/** The label selector (`k=v,k=v`) that lists exactly the objects tricenter owns for one application. */
export function ownerSelector(app: AppRef): string {
  return `${LABEL_MANAGED_BY}=${MANAGED_BY},${LABEL_APP_NAMESPACE}=${app.namespace},${LABEL_APP_NAME}=${app.name}`;
}
