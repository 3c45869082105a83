import type { ResourceType } from './resources.ts';

/**
 * Errors the simulated API server answers with: `Status` objects shaped exactly like
 * kube-apiserver's (reason, code, details.causes), so that clients classify them as they would
 * against a real cluster.
 */
interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
}

export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string | undefined,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }

  toStatus(): KubeStatus {
    const status: KubeStatus = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      code: this.code,
    };
    if (this.reason) status.reason = this.reason;
    if (this.details) status.details = this.details;
    return status;
  }
}

/** `deployments.apps`, or `configmaps` in the core group: how the API server names a resource in messages. */
function qualifiedResource(type: ResourceType): string {
  return type.group ? `${type.plural}.${type.group}` : type.plural;
}

/** `Deployment.apps`, or `Service` in the core group: how validation messages name a kind. */
function qualifiedKind(type: ResourceType): string {
  const group = validationGroup(type);
  return group ? `${type.kind}.${group}` : type.kind;
}

/** Details as kube-apiserver serializes them: an empty group (the core group) is left out. */
function resourceDetails(type: ResourceType, name: string): StatusDetails {
  return type.group ? { name, group: type.group, kind: type.plural } : { name, kind: type.plural };
}

/**
 * The group validation errors name: 1.20 validates Ingresses as the internal `extensions` type,
 * and says so (`Ingress.extensions "x" is invalid`).
 */
function validationGroup(type: ResourceType): string {
  return type.kind === 'Ingress' ? 'extensions' : type.group;
}

export function notFound(type: ResourceType, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualifiedResource(type)} "${name}" not found`, resourceDetails(type, name));
}

export function alreadyExists(type: ResourceType, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${qualifiedResource(type)} "${name}" already exists`, resourceDetails(type, name));
}

export function conflict(type: ResourceType, name: string, why: string): ApiError {
  return new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedResource(type)} "${name}": ${why}`,
    resourceDetails(type, name),
  );
}

export const STALE_OBJECT = 'the object has been modified; please apply your changes to the latest version and try again';

export interface FieldError {
  /** `FieldValueRequired`, `FieldValueInvalid`, `FieldValueNotSupported`, `FieldValueDuplicate`... */
  reason: string;
  field: string;
  /** The detail after the field, as the API server words it, e.g. `Required value` or `Invalid value: "x": ...`. */
  detail: string;
}

export function invalid(type: ResourceType, name: string, errors: FieldError[]): ApiError {
  // The message lists each distinct error once (an aggregate dedupes), the causes keep them all.
  const parts = [...new Set(errors.map((e) => `${e.field}: ${e.detail}`))];
  const summary = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  const causes = errors.map((e) => ({ reason: e.reason, message: e.detail, field: e.field }));
  const group = validationGroup(type);
  return new ApiError(
    422,
    'Invalid',
    `${qualifiedKind(type)} "${name}" is invalid: ${summary}`,
    group ? { name, group, kind: type.kind, causes } : { name, kind: type.kind, causes },
  );
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

export function methodNotAllowed(): ApiError {
  return new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
}

export function unsupportedMediaType(accepted: string[]): ApiError {
  return new ApiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
  );
}

/** A PATCH whose content type is no patch type: kube-apiserver's generic answer. */
export function unsupportedPatchType(): ApiError {
  return new ApiError(415, 'UnsupportedMediaType', '415: Unsupported Media Type', {});
}

export function unauthorized(): ApiError {
  return new ApiError(401, 'Unauthorized', 'Unauthorized');
}

/** A path the server does not serve: kube-apiserver answers a bare 404 Status without reason details. */
export function pathNotFound(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
}

export function gone(message: string): ApiError {
  return new ApiError(410, 'Expired', message);
}
