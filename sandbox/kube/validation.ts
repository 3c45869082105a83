import { deepEqual, isObject, type Json, type JsonObject } from './fieldpath.ts';
import type { FieldError } from './status.ts';
import { matchesLabels, selectorFromObject, type LabelSelectorObject } from './selectors.ts';

/**
 * Validation with kube-apiserver's field paths and wording, for the checks clients meet in
 * practice: names, labels, workload selector/template/containers (Deployment, StatefulSet,
 * DaemonSet, Job, CronJob's job template with its restart policies and schedule), Service ports,
 * Ingress rules, ConfigMap and Secret keys, PVC access modes and storage request, HPA replica
 * bounds, PDB budget, immutable fields on update.
 */
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_1123_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const LABEL_1035_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const QUALIFIED_NAME_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const CONFIG_KEY_MSG =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

/** Go's %#v-like rendering of a value, as the API server quotes offending values. */
function goValue(value: Json | undefined): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (isObject(value) && Object.values(value).every((v) => typeof v === 'string')) {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${JSON.stringify(value[k])}`);
    return `map[string]string{${entries.join(', ')}}`;
  }
  return value === undefined ? 'null' : JSON.stringify(value);
}

const required = (field: string, detail = ''): FieldError => ({
  reason: 'FieldValueRequired',
  field,
  detail: detail ? `Required value: ${detail}` : 'Required value',
});
const invalidValue = (field: string, value: Json | undefined, detail: string): FieldError => ({
  reason: 'FieldValueInvalid',
  field,
  detail: `Invalid value: ${goValue(value)}: ${detail}`,
});
const unsupported = (field: string, value: Json | undefined, supported: string[]): FieldError => ({
  reason: 'FieldValueNotSupported',
  field,
  detail: `Unsupported value: ${goValue(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`,
});
const notFoundValue = (field: string, value: Json | undefined): FieldError => ({
  reason: 'FieldValueNotFound',
  field,
  detail: `Not found: ${goValue(value)}`,
});

function validateLabels(labels: Json | undefined, field: string, errors: FieldError[]): void {
  if (!isObject(labels)) return;
  for (const [key, value] of Object.entries(labels)) {
    const name = key.includes('/') ? key.slice(key.indexOf('/') + 1) : key;
    const prefix = key.includes('/') ? key.slice(0, key.indexOf('/')) : '';
    if (!QUALIFIED_NAME.test(name) || name.length > 63 || (prefix && !SUBDOMAIN.test(prefix)))
      errors.push(invalidValue(field, key, QUALIFIED_NAME_MSG));
    if (typeof value !== 'string' || !LABEL_VALUE.test(value) || value.length > 63)
      errors.push(invalidValue(field, value, LABEL_VALUE_MSG));
  }
}

function validateMetadata(kind: string, o: JsonObject, errors: FieldError[]): void {
  const metadata = isObject(o.metadata) ? o.metadata : {};
  const name = metadata.name;
  if (typeof name !== 'string' || name === '') {
    errors.push(required('metadata.name', 'name or generateName is required'));
  } else if (kind === 'Namespace') {
    if (!LABEL_1123.test(name) || name.length > 63) errors.push(invalidValue('metadata.name', name, LABEL_1123_MSG));
  } else if (kind === 'Service') {
    if (!LABEL_1035.test(name) || name.length > 63) errors.push(invalidValue('metadata.name', name, LABEL_1035_MSG));
  } else if (!SUBDOMAIN.test(name) || name.length > 253) {
    errors.push(invalidValue('metadata.name', name, SUBDOMAIN_MSG));
  }
  validateLabels(metadata.labels, 'metadata.labels', errors);
}

function validateContainers(spec: JsonObject, path: string, errors: FieldError[]): void {
  const containers = spec.containers;
  if (!Array.isArray(containers) || containers.length === 0) {
    errors.push(required(`${path}.containers`));
    return;
  }
  const volumeNames = new Set((Array.isArray(spec.volumes) ? spec.volumes : []).map((v) => (isObject(v) ? v.name : undefined)));
  const seen = new Set<string>();
  containers.forEach((c, i) => {
    const at = `${path}.containers[${i}]`;
    if (!isObject(c)) return;
    if (typeof c.name !== 'string' || c.name === '') errors.push(required(`${at}.name`));
    else if (!LABEL_1123.test(c.name)) errors.push(invalidValue(`${at}.name`, c.name, LABEL_1123_MSG));
    else if (seen.has(c.name))
      errors.push({ reason: 'FieldValueDuplicate', field: `${at}.name`, detail: `Duplicate value: ${goValue(c.name)}` });
    if (typeof c.name === 'string') seen.add(c.name);
    if (typeof c.image !== 'string' || c.image.trim() === '') errors.push(required(`${at}.image`));
    (Array.isArray(c.volumeMounts) ? c.volumeMounts : []).forEach((m, j) => {
      if (isObject(m) && !volumeNames.has(m.name)) errors.push(notFoundValue(`${at}.volumeMounts[${j}].name`, m.name));
    });
    (Array.isArray(c.ports) ? c.ports : []).forEach((p, j) => {
      if (isObject(p) && !(typeof p.containerPort === 'number' && p.containerPort >= 1 && p.containerPort <= 65535)) {
        errors.push(invalidValue(`${at}.ports[${j}].containerPort`, p.containerPort ?? 0, 'must be between 1 and 65535, inclusive'));
      }
    });
  });
}

function validateDeployment(o: JsonObject, errors: FieldError[]): void {
  const spec = isObject(o.spec) ? o.spec : {};
  if (typeof spec.replicas === 'number' && spec.replicas < 0)
    errors.push(invalidValue('spec.replicas', spec.replicas, 'must be greater than or equal to 0'));
  const template = isObject(spec.template) ? spec.template : {};
  const templateLabels =
    isObject(template.metadata) && isObject(template.metadata.labels) ? (template.metadata.labels as Record<string, string>) : {};
  if (!isObject(spec.selector)) {
    errors.push(required('spec.selector'));
  } else {
    const selector = selectorFromObject(spec.selector as LabelSelectorObject);
    if (selector.length === 0) errors.push(invalidValue('spec.selector', spec.selector, 'empty selector is invalid for deployment'));
    else if (!matchesLabels(selector, templateLabels)) {
      errors.push(invalidValue('spec.template.metadata.labels', templateLabels, '`selector` does not match template `labels`'));
    }
  }
  validateLabels(templateLabels, 'spec.template.metadata.labels', errors);
  const podSpec = isObject(template.spec) ? template.spec : {};
  validateContainers(podSpec, 'spec.template.spec', errors);
  if (podSpec.restartPolicy !== undefined && podSpec.restartPolicy !== 'Always')
    errors.push(unsupported('spec.template.spec.restartPolicy', podSpec.restartPolicy, ['Always']));
}

function validateService(o: JsonObject, errors: FieldError[]): void {
  const spec = isObject(o.spec) ? o.spec : {};
  const types = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
  if (!types.includes(String(spec.type))) errors.push(unsupported('spec.type', spec.type, types));
  const ports = Array.isArray(spec.ports) ? spec.ports : [];
  if (ports.length === 0 && spec.type !== 'ExternalName' && spec.clusterIP !== 'None') errors.push(required('spec.ports'));
  ports.forEach((p, i) => {
    const at = `spec.ports[${i}]`;
    if (!isObject(p)) return;
    if (ports.length > 1 && (typeof p.name !== 'string' || p.name === '')) errors.push(required(`${at}.name`));
    if (!(typeof p.port === 'number' && p.port >= 1 && p.port <= 65535))
      errors.push(invalidValue(`${at}.port`, p.port ?? 0, 'must be between 1 and 65535, inclusive'));
    if (!['TCP', 'UDP', 'SCTP'].includes(String(p.protocol)))
      errors.push(unsupported(`${at}.protocol`, p.protocol, ['SCTP', 'TCP', 'UDP']));
  });
  validateLabels(spec.selector, 'spec.selector', errors);
}

function validateIngressBackend(backend: Json | undefined, at: string, errors: FieldError[]): void {
  if (!isObject(backend)) {
    errors.push(required(at));
    return;
  }
  const service = backend.service;
  if (!isObject(service)) {
    if (!isObject(backend.resource)) errors.push(invalidValue(at, backend, 'resource or service backend is required'));
    return;
  }
  if (typeof service.name !== 'string' || service.name === '') errors.push(required(`${at}.service.name`));
  const port = isObject(service.port) ? service.port : {};
  if (port.name === undefined && port.number === undefined)
    errors.push(invalidValue(`${at}.service.port`, service.port, 'port name or number is required'));
}

function validateIngress(o: JsonObject, errors: FieldError[]): void {
  const spec = isObject(o.spec) ? o.spec : {};
  const rules = Array.isArray(spec.rules) ? spec.rules : [];
  if (rules.length === 0 && spec.defaultBackend === undefined)
    errors.push(invalidValue('spec', spec, 'either `defaultBackend` or `rules` must be specified'));
  if (spec.defaultBackend !== undefined) validateIngressBackend(spec.defaultBackend, 'spec.defaultBackend', errors);
  rules.forEach((rule, i) => {
    if (!isObject(rule)) return;
    const host = rule.host;
    if (typeof host === 'string' && host !== '' && !SUBDOMAIN.test(host.replace(/^\*\./, '')))
      errors.push(invalidValue(`spec.rules[${i}].host`, host, SUBDOMAIN_MSG));
    const paths = isObject(rule.http) && Array.isArray(rule.http.paths) ? rule.http.paths : undefined;
    if (isObject(rule.http) && (!paths || paths.length === 0)) errors.push(required(`spec.rules[${i}].http.paths`));
    (paths ?? []).forEach((p, j) => {
      const at = `spec.rules[${i}].http.paths[${j}]`;
      if (!isObject(p)) return;
      if (p.pathType === undefined) errors.push(required(`${at}.pathType`, 'pathType must be specified'));
      else if (!['Exact', 'Prefix', 'ImplementationSpecific'].includes(String(p.pathType)))
        errors.push(unsupported(`${at}.pathType`, p.pathType, ['Exact', 'ImplementationSpecific', 'Prefix']));
      if ((p.pathType === 'Exact' || p.pathType === 'Prefix') && !(typeof p.path === 'string' && p.path.startsWith('/')))
        errors.push(invalidValue(`${at}.path`, p.path ?? '', 'must be an absolute path'));
      validateIngressBackend(p.backend, `${at}.backend`, errors);
    });
  });
}

function validateKeys(o: JsonObject, errors: FieldError[]): void {
  for (const field of ['data', 'binaryData']) {
    const map = o[field];
    if (!isObject(map)) continue;
    for (const key of Object.keys(map))
      if (!CONFIG_KEY.test(key) || key.length > 253) errors.push(invalidValue(`${field}[${key}]`, key, CONFIG_KEY_MSG));
  }
}

const forbidden = (field: string, detail: string): FieldError => ({ reason: 'FieldValueForbidden', field, detail: `Forbidden: ${detail}` });

const nonNegative = (spec: JsonObject, fields: string[], path: string, errors: FieldError[]): void => {
  for (const field of fields) {
    const value = spec[field];
    if (typeof value === 'number' && value < 0) errors.push(invalidValue(`${path}.${field}`, value, 'must be greater than or equal to 0'));
  }
};

const JOB_RESTART_POLICIES = ['OnFailure', 'Never'];

/** A workload's selector (required, not empty, matching the template's labels) and its pod template. */
function validateSelectedTemplate(spec: JsonObject, kind: string, restartPolicies: string[], path: string, errors: FieldError[]): void {
  const template = isObject(spec.template) ? spec.template : undefined;
  if (!template) {
    errors.push(required(`${path}.template`));
    return;
  }
  const templateLabels =
    isObject(template.metadata) && isObject(template.metadata.labels) ? (template.metadata.labels as Record<string, string>) : {};
  if (!isObject(spec.selector)) {
    // A Job's selector is generated (path: spec), so only a manualSelector one is missing here.
    errors.push(required(`${path}.selector`));
  } else {
    const selector = selectorFromObject(spec.selector as LabelSelectorObject);
    if (selector.length === 0) errors.push(invalidValue(`${path}.selector`, spec.selector, `empty selector is invalid for ${kind}`));
    else if (!matchesLabels(selector, templateLabels)) {
      errors.push(invalidValue(`${path}.template.metadata.labels`, templateLabels, '`selector` does not match template `labels`'));
    }
  }
  validatePodTemplate(template, restartPolicies, `${path}.template`, errors);
}

function validatePodTemplate(template: JsonObject, restartPolicies: string[], path: string, errors: FieldError[]): void {
  const templateLabels = isObject(template.metadata) ? template.metadata.labels : undefined;
  validateLabels(templateLabels, `${path}.metadata.labels`, errors);
  const podSpec = isObject(template.spec) ? template.spec : {};
  validateContainers(podSpec, `${path}.spec`, errors);
  if (restartPolicies.includes(String(podSpec.restartPolicy))) return;
  // 1.20 words a Job's wrong restart policy, Always included, as a missing one.
  if (restartPolicies === JOB_RESTART_POLICIES || podSpec.restartPolicy === undefined)
    errors.push(required(`${path}.spec.restartPolicy`, `valid values: ${restartPolicies.map((p) => JSON.stringify(p)).join(', ')}`));
  else errors.push(unsupported(`${path}.spec.restartPolicy`, podSpec.restartPolicy, restartPolicies));
}

function validateStatefulSet(o: JsonObject, errors: FieldError[]): void {
  const spec = isObject(o.spec) ? o.spec : {};
  nonNegative(spec, ['replicas'], 'spec', errors);
  const policies = ['OrderedReady', 'Parallel'];
  if (spec.podManagementPolicy !== undefined && !policies.includes(String(spec.podManagementPolicy)))
    errors.push(unsupported('spec.podManagementPolicy', spec.podManagementPolicy, policies));
  validateSelectedTemplate(spec, 'statefulset', ['Always'], 'spec', errors);
}

function validateDaemonSet(o: JsonObject, errors: FieldError[]): void {
  validateSelectedTemplate(isObject(o.spec) ? o.spec : {}, 'daemonset', ['Always'], 'spec', errors);
}

function validateJobSpec(spec: JsonObject, path: string, errors: FieldError[]): void {
  nonNegative(spec, ['parallelism', 'completions', 'backoffLimit', 'activeDeadlineSeconds', 'ttlSecondsAfterFinished'], path, errors);
  if (spec.manualSelector === true || isObject(spec.selector)) {
    validateSelectedTemplate(spec, 'job', JOB_RESTART_POLICIES, path, errors);
    return;
  }
  if (!isObject(spec.template)) errors.push(required(`${path}.template`));
  else validatePodTemplate(spec.template, JOB_RESTART_POLICIES, `${path}.template`, errors);
}

function validateJob(o: JsonObject, errors: FieldError[]): void {
  const spec = isObject(o.spec) ? o.spec : {};
  if (!isObject(spec.selector) && spec.manualSelector !== true) errors.push(required('spec.selector'));
  validateJobSpec(spec, 'spec', errors);
}

/** The cron syntax CronJobs accept (robfig/cron v1's standard parser, as in 1.20), with its messages. */
const CRON_DESCRIPTORS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];
const CRON_FIELDS: Array<{ min: number; max: number; names?: string[] }> = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  { min: 0, max: 6, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

function cronNumber(text: string, names: string[] | undefined, offset: number): number | string {
  const named = names?.indexOf(text.toLowerCase()) ?? -1;
  if (named >= 0) return named + offset;
  if (!/^\d+$/.test(text)) return `Failed to parse int from ${text}: strconv.Atoi: parsing ${JSON.stringify(text)}: invalid syntax`;
  return Number(text);
}

function cronScheduleError(schedule: string): string | undefined {
  const trimmed = schedule.trim();
  if (trimmed.startsWith('@')) {
    if (CRON_DESCRIPTORS.includes(trimmed) || /^@every \S+$/.test(trimmed)) return undefined;
    return `Unrecognized descriptor: ${trimmed}`;
  }
  const fields = trimmed.split(/\s+/).filter(Boolean);
  if (fields.length !== 5) return `Expected exactly 5 fields, found ${fields.length}: ${trimmed}`;
  for (const [i, field] of fields.entries()) {
    const { min, max, names } = CRON_FIELDS[i] as (typeof CRON_FIELDS)[number];
    for (const part of field.split(',')) {
      const [range = '', step] = part.split('/');
      if (step !== undefined && !/^\d+$/.test(step))
        return `Failed to parse int from ${step}: strconv.Atoi: parsing ${JSON.stringify(step)}: invalid syntax`;
      if (range === '*' || range === '?') continue;
      const [lowText = '', highText] = range.split('-');
      const offset = i === 3 ? 1 : 0;
      const low = cronNumber(lowText, names, offset);
      if (typeof low === 'string') return low;
      const high = highText === undefined ? low : cronNumber(highText, names, offset);
      if (typeof high === 'string') return high;
      if (low < min) return `Beginning of range (${low}) below minimum (${min}): ${part}`;
      if (high > max) return `End of range (${high}) above maximum (${max}): ${part}`;
      if (low > high) return `Beginning of range (${low}) beyond end of range (${high}): ${part}`;
    }
  }
  return undefined;
}

function validateCronJob(o: JsonObject, errors: FieldError[]): void {
  const name = isObject(o.metadata) ? o.metadata.name : undefined;
  if (typeof name === 'string' && name.length > 52) errors.push(invalidValue('metadata.name', name, 'must be no more than 52 characters'));
  const spec = isObject(o.spec) ? o.spec : {};
  if (typeof spec.schedule !== 'string' || spec.schedule === '') errors.push(required('spec.schedule'));
  else {
    const problem = cronScheduleError(spec.schedule);
    if (problem) errors.push(invalidValue('spec.schedule', spec.schedule, problem));
  }
  const policies = ['Allow', 'Forbid', 'Replace'];
  if (!policies.includes(String(spec.concurrencyPolicy)))
    errors.push(unsupported('spec.concurrencyPolicy', spec.concurrencyPolicy, policies));
  nonNegative(spec, ['startingDeadlineSeconds', 'successfulJobsHistoryLimit', 'failedJobsHistoryLimit'], 'spec', errors);
  const jobTemplate = isObject(spec.jobTemplate) ? spec.jobTemplate : {};
  validateJobSpec(isObject(jobTemplate.spec) ? jobTemplate.spec : {}, 'spec.jobTemplate.spec', errors);
}

/** A resource.Quantity as JSON carries it (the API server refuses anything else while decoding, with a 400). */
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$/;
export const QUANTITY_MESSAGE = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

export function isQuantity(value: Json | undefined): boolean {
  return typeof value === 'number' || (typeof value === 'string' && QUANTITY.test(value));
}

const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce'];

function validatePersistentVolumeClaim(o: JsonObject, errors: FieldError[]): void {
  const spec = isObject(o.spec) ? o.spec : {};
  const modes = Array.isArray(spec.accessModes) ? spec.accessModes : [];
  if (modes.length === 0) errors.push(required('spec.accessModes', 'at least 1 access mode is required'));
  for (const mode of modes) if (!ACCESS_MODES.includes(String(mode))) errors.push(unsupported('spec.accessModes', mode, ACCESS_MODES));
  const requests = isObject(spec.resources) && isObject(spec.resources.requests) ? spec.resources.requests : {};
  const storage = requests.storage;
  if (storage === undefined) errors.push(required('spec.resources[storage]'));
  else if (String(storage).startsWith('-') || /^[+]?0*(\.0*)?([a-zA-Z]*)$/.test(String(storage)))
    errors.push(invalidValue('spec.resources[storage]', String(storage), 'must be greater than zero'));
  const volumeModes = ['Block', 'Filesystem'];
  if (spec.volumeMode !== undefined && !volumeModes.includes(String(spec.volumeMode)))
    errors.push(unsupported('spec.volumeMode', spec.volumeMode, volumeModes));
}

function validateHorizontalPodAutoscaler(o: JsonObject, errors: FieldError[]): void {
  const spec = isObject(o.spec) ? o.spec : {};
  const target = isObject(spec.scaleTargetRef) ? spec.scaleTargetRef : {};
  if (typeof target.kind !== 'string' || target.kind === '') errors.push(required('spec.scaleTargetRef.kind'));
  if (typeof target.name !== 'string' || target.name === '') errors.push(required('spec.scaleTargetRef.name'));
  const min = spec.minReplicas;
  const max = spec.maxReplicas;
  if (typeof min === 'number' && min < 1) errors.push(invalidValue('spec.minReplicas', min, 'must be greater than or equal to 1'));
  if (typeof max !== 'number' || max < 1) errors.push(invalidValue('spec.maxReplicas', max ?? 0, 'must be greater than 0'));
  else if (typeof min === 'number' && min > max)
    errors.push(invalidValue('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
}

function validatePodDisruptionBudget(o: JsonObject, errors: FieldError[]): void {
  const spec = isObject(o.spec) ? o.spec : {};
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined)
    errors.push(invalidValue('spec', spec, 'minAvailable and maxUnavailable cannot be both set'));
  if (isObject(spec.selector)) validateLabels(spec.selector.matchLabels, 'spec.selector.matchLabels', errors);
}

const VALIDATORS: Record<string, (o: JsonObject, errors: FieldError[]) => void> = {
  Deployment: validateDeployment,
  StatefulSet: validateStatefulSet,
  DaemonSet: validateDaemonSet,
  Job: validateJob,
  CronJob: validateCronJob,
  PersistentVolumeClaim: validatePersistentVolumeClaim,
  HorizontalPodAutoscaler: validateHorizontalPodAutoscaler,
  PodDisruptionBudget: validatePodDisruptionBudget,
  Service: validateService,
  Ingress: validateIngress,
  ConfigMap: validateKeys,
  Secret: validateKeys,
};

export function validate(kind: string, o: JsonObject): FieldError[] {
  const errors: FieldError[] = [];
  validateMetadata(kind, o, errors);
  VALIDATORS[kind]?.(o, errors);
  return errors;
}

/** Fields that cannot change once set: a Deployment's selector, a Service's cluster IP. */
export function validateUpdate(kind: string, before: JsonObject, after: JsonObject): FieldError[] {
  const errors = validate(kind, after);
  const specOf = (o: JsonObject): JsonObject => (isObject(o.spec) ? o.spec : {});
  if (['Deployment', 'DaemonSet', 'Job'].includes(kind) && !deepEqual(specOf(before).selector, specOf(after).selector)) {
    errors.push(invalidValue('spec.selector', specOf(after).selector, 'field is immutable'));
  }
  if (kind === 'Job') {
    for (const field of ['template', 'completions'])
      if (!deepEqual(specOf(before)[field], specOf(after)[field]))
        errors.push(invalidValue(`spec.${field}`, specOf(after)[field], 'field is immutable'));
  }
  if (kind === 'StatefulSet') {
    const mutable = ['replicas', 'template', 'updateStrategy'];
    const rest = (o: JsonObject) => Object.fromEntries(Object.entries(specOf(o)).filter(([k]) => !mutable.includes(k)));
    if (!deepEqual(rest(before), rest(after)))
      errors.push(
        forbidden('spec', "updates to statefulset spec for fields other than 'replicas', 'template', and 'updateStrategy' are forbidden"),
      );
  }
  if (kind === 'PersistentVolumeClaim') {
    // Binding fills volumeName once; a bound claim may change its storage request, nothing else changes.
    const comparable = (o: JsonObject, bound: boolean): JsonObject => {
      const spec = structuredClone(specOf(o));
      if (!specOf(before).volumeName) delete spec.volumeName;
      if (bound && isObject(spec.resources)) delete spec.resources.requests;
      return spec;
    };
    const bound = isObject(before.status) && before.status.phase === 'Bound';
    if (!deepEqual(comparable(before, bound), comparable(after, bound)))
      errors.push(forbidden('spec', 'spec is immutable after creation except resources.requests for bound claims'));
  }
  if (kind === 'Service') {
    const [was, now] = [specOf(before), specOf(after)];
    const ips = Array.isArray(now.clusterIPs) ? now.clusterIPs : [];
    if (Array.isArray(was.clusterIPs) && was.clusterIPs.length > 0 && ips.length === 0) {
      errors.push({
        reason: 'FieldValueInvalid',
        field: 'spec.clusterIPs[0]',
        detail: 'Invalid value: []string(nil): primary clusterIP can not be unset',
      });
    } else if (now.clusterIP !== undefined && was.clusterIP !== now.clusterIP) {
      errors.push(invalidValue('spec.clusterIP', now.clusterIP, 'field is immutable'));
    }
  }
  return errors;
}
