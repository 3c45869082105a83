import { inspect } from 'node:util';
import { TricenterError } from './errors.ts';
import type { FcContext } from './triggers/fc.ts';

/**
 * Alibaba Cloud credentials for the cloud adapters. In Function Compute they come from the
 * invocation context (`context.credentials`: the STS keys of the function's RAM role), never from
 * code or configuration; STS keys expire, so every invocation hands its context's keys over and
 * adapters built once per instance read them again for every request through a provider.
 *
 * Never logged: the logger redacts fields by name (secret, token, credential, accesskey...), and
 * the credential objects made here also print as `[redacted]` through JSON.stringify and
 * util.inspect, so a credential reaching a log line by another name still shows nothing.
 */
export interface CloudCredentials {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly securityToken?: string;
}

/** Called for every request: returns the keys valid now. */
export type CredentialsProvider = () => CloudCredentials;

function sealed(keys: { accessKeyId: string; accessKeySecret: string; securityToken?: string | undefined }): CloudCredentials {
  const credentials: CloudCredentials = {
    accessKeyId: keys.accessKeyId,
    accessKeySecret: keys.accessKeySecret,
    ...(keys.securityToken ? { securityToken: keys.securityToken } : {}),
  };
  const redacted = () => ({
    accessKeyId: `${keys.accessKeyId.slice(0, 4)}…`,
    accessKeySecret: '[redacted]',
    securityToken: keys.securityToken ? '[redacted]' : undefined,
  });
  Object.defineProperties(credentials, {
    toJSON: { value: redacted, enumerable: false },
    [inspect.custom]: { value: () => `CloudCredentials ${JSON.stringify(redacted())}`, enumerable: false },
  });
  return Object.freeze(credentials);
}

/** The STS keys of one invocation; refuses a context without them (the function has no role). */
export function credentialsFromFcContext(context: FcContext): CloudCredentials {
  const keys = context.credentials;
  if (!keys?.accessKeyId || !keys.accessKeySecret) {
    throw new TricenterError(
      'FORBIDDEN',
      `invocation ${context.requestId} carries no credentials: give the function a RAM role (s.yaml \`role\`) so Function Compute passes its STS keys`,
    );
  }
  return sealed(keys);
}

/**
 * Credentials that follow the invocations: the function's handler calls `refresh(context)` first
 * thing on every invocation; the adapters, built once per instance, call `provider()` per request.
 */
export interface InvocationCredentials {
  refresh(context: FcContext): void;
  provider: CredentialsProvider;
}

export function invocationCredentials(): InvocationCredentials {
  let current: CloudCredentials | undefined;
  return {
    refresh(context) {
      current = credentialsFromFcContext(context);
    },
    provider() {
      if (!current)
        throw new TricenterError(
          'INTERNAL',
          'cloud credentials were asked for before any invocation handed them over (call refresh(context) first)',
        );
      return current;
    },
  };
}

/**
 * For the CLI on a workstation (`tricenter setup`): the standard Alibaba Cloud variables
 * ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET / ALIBABA_CLOUD_SECURITY_TOKEN.
 */
export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): CloudCredentials {
  const accessKeyId = env.ALIBABA_CLOUD_ACCESS_KEY_ID;
  const accessKeySecret = env.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
  if (!accessKeyId || !accessKeySecret) {
    throw new TricenterError(
      'UNAUTHORIZED',
      'set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN for STS keys)',
    );
  }
  return sealed({ accessKeyId, accessKeySecret, securityToken: env.ALIBABA_CLOUD_SECURITY_TOKEN });
}

/** Fixed keys (tests, tools): still sealed against logging. */
export function staticCredentials(keys: { accessKeyId: string; accessKeySecret: string; securityToken?: string }): CredentialsProvider {
  const credentials = sealed(keys);
  return () => credentials;
}

/** True when two credential sets are the same keys (adapters rebuild their SDK client when not). */
export function sameCredentials(a: CloudCredentials | undefined, b: CloudCredentials): boolean {
  return (
    a !== undefined && a.accessKeyId === b.accessKeyId && a.accessKeySecret === b.accessKeySecret && a.securityToken === b.securityToken
  );
}
