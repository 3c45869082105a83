import { apiGroup, type KubeObject } from '../delivery/model/kube.ts';
import type { Plan } from '../delivery/model/plan.ts';
import { isClusterScoped } from '../delivery/model/scope.ts';
import { describeManifest, eachManifest, placeOf, printable } from './manifests.ts';
import type { Violation } from './violation.ts';

/**
 * The API server's own checks on names, labels and annotations (k8s.io/apimachinery validation),
 * made on every rendered manifest at ingest: a name the server would refuse is found before a
 * step has applied half of its objects.
 */

interface Rule {
  id: string;
  /** What the value must be, for the message. */
  says: string;
  test: (value: string) => boolean;
}

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const KIND = /^[A-Za-z]([-A-Za-z0-9]*[A-Za-z0-9])?$/;
const ANNOTATIONS_MAX_BYTES = 256 * 1024;

const subdomain = (max: number): Rule => ({
  id: 'dns1123-subdomain',
  says: `a DNS-1123 subdomain (lower case letters, digits, '-' and '.', starting and ending with a letter or digit, at most ${max} characters)`,
  test: (v) => v.length <= max && SUBDOMAIN.test(v),
});
const SUBDOMAIN_253 = subdomain(253);
const SUBDOMAIN_52 = subdomain(52);
const DNS1123_LABEL: Rule = {
  id: 'dns1123-label',
  says: "a DNS-1123 label (lower case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)",
  test: (v) => v.length <= 63 && LABEL.test(v),
};
const DNS1035_LABEL: Rule = {
  id: 'dns1035-label',
  says: "a DNS-1035 label (lower case letters, digits and '-', starting with a letter, ending with a letter or digit, at most 63 characters)",
  test: (v) => v.length <= 63 && DNS1035.test(v),
};
const PATH_SEGMENT: Rule = {
  id: 'path-segment',
  says: "a path segment (not '.' or '..', no '/' or '%')",
  test: (v) => v !== '.' && v !== '..' && !/[/%]/.test(v),
};
const QUALIFIED_NAME: Rule = {
  id: 'qualified-name',
  says: "a qualified name (an optional DNS-1123 subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)",
  test: isQualifiedName,
};
const LABEL_VALUE: Rule = {
  id: 'label-value',
  says: "empty or at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
  test: (v) => v === '' || (v.length <= 63 && QUALIFIED_PART.test(v)),
};
const API_VERSION: Rule = {
  id: 'api-version',
  says: 'a version (`v1`) or a DNS-1123 subdomain group, `/` and a version (`apps/v1`)',
  test: (v) => {
    const slash = v.indexOf('/');
    return (slash < 0 || SUBDOMAIN_253.test(v.slice(0, slash))) && DNS1035_LABEL.test(v.slice(slash + 1));
  },
};
const KIND_RULE: Rule = {
  id: 'kind',
  says: 'a kind name (letters, digits and -, starting with a letter, at most 63 characters)',
  test: (v) => v.length <= 63 && KIND.test(v),
};

const RBAC_GROUP = 'rbac.authorization.k8s.io';
const RBAC_KINDS = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);

/** The rule the API server applies to `metadata.name` of this kind. */
function nameRule(object: Pick<KubeObject, 'apiVersion' | 'kind'>): Rule {
  const group = apiGroup(object.apiVersion);
  if (group === '' && object.kind === 'Service') return DNS1035_LABEL;
  if (group === '' && object.kind === 'Namespace') return DNS1123_LABEL;
  if (group === RBAC_GROUP && RBAC_KINDS.has(object.kind)) return PATH_SEGMENT;
  // A CronJob's name gets an 11-character suffix for its Jobs, which must stay DNS-1035 labels.
  if (group === 'batch' && object.kind === 'CronJob') return SUBDOMAIN_52;
  return SUBDOMAIN_253;
}

function isQualifiedName(key: string): boolean {
  const parts = key.split('/');
  if (parts.length > 2) return false;
  const [prefix, name] = parts.length === 2 ? parts : [undefined, parts[0]];
  if (prefix !== undefined && !(prefix.length > 0 && SUBDOMAIN_253.test(prefix))) return false;
  return name !== undefined && name.length <= 63 && QUALIFIED_PART.test(name);
}

/** A value as a message quotes it: in double quotes, control characters escaped, cut at 80 characters. */
export function quote(value: string): string {
  return `"${printable(value.replaceAll('\\', '\\\\').replaceAll('"', '\\"'))}"`;
}

/** `metadata.labels["app.kubernetes.io/name"]`: keys hold dots and slashes, so they are always bracketed. */
function keyPath(map: string, key: string): string {
  return `metadata.${map}[${JSON.stringify(key)}]`;
}

/**
 * Values each rule accepted: the same apiVersions, kinds, namespaces and annotation keys come back
 * in every manifest. Bounded; a value refused is never kept, so it is refused every time.
 */
const ACCEPTED = new Map<Rule, Set<string>>();
const ACCEPTED_LIMIT = 10_000;

function passes(rule: Rule, value: string): boolean {
  let accepted = ACCEPTED.get(rule);
  if (accepted?.has(value)) return true;
  if (!rule.test(value)) return false;
  if (!accepted) {
    accepted = new Set();
    ACCEPTED.set(rule, accepted);
  }
  if (accepted.size < ACCEPTED_LIMIT) accepted.add(value);
  return true;
}

/**
 * Label maps found valid. The renderer gives every manifest of a component made from the same
 * labels one frozen map: checked once, however many steps and clusters get it. Only frozen maps
 * are remembered (another could change after its check).
 */
const VALID_LABELS = new WeakSet<object>();

export function validateManifest(manifest: KubeObject): Violation[] {
  const out: Violation[] = [];
  let what: string | undefined;
  // The message, its quoted values and the field are made only for a value that breaks its rule.
  const check = (rule: Rule, value: string, field: () => string, subject: () => string) => {
    if (passes(rule, value)) return;
    what ??= describeManifest(manifest);
    out.push({
      rule: `name.${rule.id}`,
      message: `${subject()} ${quote(value)} of ${what} must be ${rule.says}`,
      place: placeOf(manifest, field()),
    });
  };
  check(
    API_VERSION,
    manifest.apiVersion,
    () => 'apiVersion',
    () => 'apiVersion',
  );
  check(
    KIND_RULE,
    manifest.kind,
    () => 'kind',
    () => 'kind',
  );
  check(
    nameRule(manifest),
    manifest.metadata.name,
    () => 'metadata.name',
    () => 'metadata.name',
  );
  const namespace = manifest.metadata.namespace;
  if (namespace !== undefined && isClusterScoped(manifest.kind)) {
    out.push({
      rule: 'name.cluster-scoped',
      message: `${describeManifest(manifest)} is cluster-scoped: remove metadata.namespace`,
      place: placeOf(manifest, 'metadata.namespace'),
    });
  } else if (namespace !== undefined)
    check(
      DNS1123_LABEL,
      namespace,
      () => 'metadata.namespace',
      () => 'metadata.namespace',
    );
  const labels = manifest.metadata.labels;
  if (labels !== undefined && !VALID_LABELS.has(labels)) {
    const before = out.length;
    for (const key of Object.keys(labels)) {
      const value = labels[key] as string;
      check(
        QUALIFIED_NAME,
        key,
        () => keyPath('labels', key),
        () => 'label key',
      );
      check(
        LABEL_VALUE,
        value,
        () => keyPath('labels', key),
        () => `value of label ${quote(key)}`,
      );
    }
    if (out.length === before && Object.isFrozen(labels)) VALID_LABELS.add(labels);
  }
  let annotationBytes = 0;
  const annotations = manifest.metadata.annotations ?? {};
  for (const key of Object.keys(annotations)) {
    check(
      QUALIFIED_NAME,
      key.toLowerCase(),
      () => keyPath('annotations', key),
      () => 'annotation key',
    );
    annotationBytes += Buffer.byteLength(key) + Buffer.byteLength(annotations[key] as string);
  }
  if (annotationBytes > ANNOTATIONS_MAX_BYTES) {
    out.push({
      rule: 'name.annotations-size',
      message: `the annotations of ${describeManifest(manifest)} total ${annotationBytes} bytes; the API server accepts at most ${ANNOTATIONS_MAX_BYTES} (256 KiB)`,
      place: placeOf(manifest, 'metadata.annotations'),
    });
  }
  return out;
}

/** Every manifest of the plan (each once, however many clusters get it), checked as the API server would. */
export function validateNames(plan: Plan): Violation[] {
  const out: Violation[] = [];
  for (const { manifest } of eachManifest(plan)) out.push(...validateManifest(manifest));
  return out;
}
