/**
 * Differences between the sandbox and kube-apiserver 1.20 that are known and written up in
 * docs/sandbox-vs-kube-apiserver.md (the ids are its rows), by step name: the JSON paths (exact or
 * prefixes) allowed to differ. Each listed difference must still show, so that a fix in the sandbox
 * makes the suite ask for the entry and the document row to go.
 */
export interface KnownDifference {
  id: string;
  summary: string;
  /** `status` or `body...` paths as reported by compareResponses; a path also covers what lies under it. */
  paths: string[];
}

const MANAGED_FIELDS_ORDER: KnownDifference = {
  id: 'D1',
  summary: 'managedFields order: kube-apiserver lists Apply entries before Update entries; the sandbox keeps insertion order',
  paths: ['body.metadata.managedFieldsOrder'],
};

const EMPTY_MAP_KEPT: KnownDifference = {
  id: 'D2',
  summary: 'an empty `data: {}` is dropped by kube-apiserver (omitempty), kept by the sandbox (also in managedFields)',
  paths: ['body.data', 'body.metadata.managedFields[0].fieldsV1.f:data'],
};

const EMPTY_DETAILS_NAME: KnownDifference = {
  id: 'D3',
  summary: 'Invalid without a name: kube-apiserver leaves details.name out, the sandbox sends ""',
  paths: ['body.details.name'],
};

const FORCE_ON_NON_APPLY: KnownDifference = {
  id: 'D4',
  summary: 'force=true on a merge patch: kube-apiserver answers 422 (PatchOptions force Forbidden), the sandbox applies the patch',
  paths: ['status', 'body'],
};

const IGNORED_STATUS_OWNED: KnownDifference = {
  id: 'D5',
  summary:
    'status sent to the main resource is ignored, yet kube-apiserver 1.20 gives its fields to the patching manager; the sandbox leaves them with their owner',
  paths: ['body.metadata.managedFields[2].fieldsV1.f:status.f:replicas', 'body.metadata.managedFields[3].fieldsV1.f:status'],
};

const PRECONDITION_DETAILS_KIND: KnownDifference = {
  id: 'D6',
  summary:
    'failed delete precondition: details.kind is the Kind ("ConfigMap") on kube-apiserver, the resource ("configmaps") on the sandbox',
  paths: ['body.details.kind'],
};

export const KNOWN_DIFFERENCES: Record<string, KnownDifference[]> = {
  'configmap: create dry run': [EMPTY_MAP_KEPT],
  'configmap: no name (422)': [EMPTY_DETAILS_NAME],
  'apply: beta forces replicas': [MANAGED_FIELDS_ORDER],
  'apply: alpha applies without replicas (gives it up)': [MANAGED_FIELDS_ORDER],
  'apply: beta sets the same image as alpha (shared, no conflict)': [MANAGED_FIELDS_ORDER],
  'apply: force on a non-apply patch (422)': [FORCE_ON_NON_APPLY],
  'deployment: get': [MANAGED_FIELDS_ORDER],
  'deployment: merge patch spec (generation moves)': [MANAGED_FIELDS_ORDER],
  'deployment: status in a main-resource patch is ignored': [MANAGED_FIELDS_ORDER, IGNORED_STATUS_OWNED],
  'deployment: merge patch of status': [MANAGED_FIELDS_ORDER, IGNORED_STATUS_OWNED],
  'deployment: spec in a status patch is ignored': [MANAGED_FIELDS_ORDER, IGNORED_STATUS_OWNED],
  'deployment: get after status writes': [MANAGED_FIELDS_ORDER, IGNORED_STATUS_OWNED],
  'delete: uid precondition fails (409)': [PRECONDITION_DETAILS_KIND],
};
