import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '#shared/platform/clock.ts';
import type { Logger } from '#shared/platform/log.ts';
import { errorMessage } from '#shared/platform/errors.ts';
import { GtmApiError, apiErrors, type ThrottleCode } from './api-error.ts';
import { ParamReader } from './params.ts';
import { computeRpcSignature, signatureMatches, stringToSign } from './signature.ts';

/**
 * The RPC front door: merges query-string and form-body parameters, checks the common parameters
 * and the signature the way the POP gateway does, then dispatches on `Action`.
 */

const API_VERSION = '2015-01-09';
const HOST_ID = 'alidns.aliyuncs.com';
/** The gateway accepts a Timestamp at most 15 minutes away from its clock; nonces are remembered as long. */
const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
const MAX_BODY_BYTES = 1024 * 1024;
const TIMESTAMP_FORMAT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const COMMON_REQUIRED = [
  'Action',
  'Version',
  'AccessKeyId',
  'SignatureMethod',
  'SignatureVersion',
  'SignatureNonce',
  'Timestamp',
  'Signature',
] as const;

export interface RpcServerOptions {
  accessKeyId: string;
  accessKeySecret: string;
  /** The actions served, by wire name, bound to their instance's state (GTM 2.0's or 3.0's). */
  actions: Readonly<Record<string, BoundAction>>;
  /** An error for an action of the other GTM generation (the instance is 2.0 or 3.0, not both). */
  otherGeneration?(action: string): GtmApiError | undefined;
  clock: Clock;
  logger: Logger;
  /** Called after every action that may have written (anything but a Describe or List), before the answer goes out. */
  changed?(): void;
}

export type BoundAction = (params: ParamReader, now: number) => Record<string, unknown>;

export class RpcServer {
  private readonly seenNonces = new Map<string, number>();
  private pendingThrottles: ThrottleCode[] = [];
  private readonly calls = new Map<string, number>();

  constructor(private readonly options: RpcServerOptions) {}

  /** The next `count` correctly signed requests are refused with `code`, as the real flow control does. */
  throttleNext(count: number, code: ThrottleCode = 'Throttling.User'): void {
    for (let i = 0; i < count; i += 1) this.pendingThrottles.push(code);
  }

  /** Requests that reached an action (after the signature check), by action: what a benchmark counts. */
  callCounts(): Record<string, number> {
    return Object.fromEntries(this.calls);
  }

  readonly handle = (request: IncomingMessage, response: ServerResponse): void => {
    const requestId = randomUUID().toUpperCase();
    this.readParams(request)
      .then((params) => this.process(request.method ?? 'GET', request.url ?? '/', params))
      .then(
        (result) => reply(response, 200, { RequestId: requestId, ...result }),
        (err: unknown) => {
          const apiError = err instanceof GtmApiError ? err : apiErrors.internal();
          if (!(err instanceof GtmApiError)) this.options.logger.error('gtm emulator: action failed', { error: errorMessage(err) });
          this.options.logger.debug('gtm emulator: request refused', { code: apiError.apiCode, message: apiError.message });
          reply(response, apiError.httpStatus, {
            RequestId: requestId,
            HostId: HOST_ID,
            Code: apiError.apiCode,
            Message: apiError.message,
            Recommend: `https://api.alibabacloud.com/troubleshoot?intl_lang=EN_US&q=${encodeURIComponent(apiError.apiCode)}&product=Alidns&requestId=${requestId}`,
          });
        },
      );
  };

  private async readParams(request: IncomingMessage): Promise<Record<string, string>> {
    const url = new URL(request.url ?? '/', 'http://emulator.local');
    const params: Record<string, string> = Object.fromEntries(url.searchParams);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) throw apiErrors.invalidParameter('body', `larger than ${MAX_BODY_BYTES} bytes.`);
      chunks.push(chunk as Buffer);
    }
    const contentType = request.headers['content-type'] ?? '';
    if (chunks.length > 0 && contentType.startsWith('application/x-www-form-urlencoded')) {
      // pop-core sends POST parameters in the body, but with method 'post' (lower case) in the query: take both.
      for (const [name, value] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) params[name] = value;
    }
    return params;
  }

  private async process(method: string, rawUrl: string, params: Record<string, string>): Promise<Record<string, unknown>> {
    const httpMethod = method.toUpperCase();
    if (httpMethod !== 'GET' && httpMethod !== 'POST')
      throw new GtmApiError('UnsupportedOperation', 405, `HTTP method ${method} is not supported; use GET or POST.`);
    if (new URL(rawUrl, 'http://emulator.local').pathname !== '/')
      throw new GtmApiError('UnsupportedOperation', 404, 'RPC actions are served on path "/".');
    this.authenticate(httpMethod, params);
    const action = params.Action ?? '';
    const throttle = this.pendingThrottles.shift();
    if (throttle) throw apiErrors.throttled(throttle);
    const handler = Object.hasOwn(this.options.actions, action) ? this.options.actions[action] : undefined;
    if (!handler) throw this.options.otherGeneration?.(action) ?? apiErrors.unsupportedOperation(action);
    this.calls.set(action, (this.calls.get(action) ?? 0) + 1);
    const reader = new ParamReader(params);
    reader.optionalEnum('Lang', ['en', 'zh', 'ja']);
    const result = handler(reader, this.options.clock.now());
    if (!/^(Describe|List)/.test(action)) this.options.changed?.();
    this.options.logger.debug('gtm emulator: action done', { action });
    return result;
  }

  private authenticate(httpMethod: string, params: Record<string, string>): void {
    const common = Object.fromEntries(
      COMMON_REQUIRED.map((name) => {
        const value = params[name];
        if (!value) throw apiErrors.missingParameter(name);
        return [name, value];
      }),
    ) as Record<(typeof COMMON_REQUIRED)[number], string>;
    if (common.Version !== API_VERSION) throw apiErrors.noSuchVersion(common.Version);
    if (common.SignatureMethod !== 'HMAC-SHA1')
      throw apiErrors.incompleteSignature(`SignatureMethod must be HMAC-SHA1, got "${common.SignatureMethod}".`);
    if (common.SignatureVersion !== '1.0')
      throw apiErrors.incompleteSignature(`SignatureVersion must be 1.0, got "${common.SignatureVersion}".`);
    const sentAt = TIMESTAMP_FORMAT.test(common.Timestamp) ? Date.parse(common.Timestamp) : Number.NaN;
    if (Number.isNaN(sentAt)) throw apiErrors.illegalTimestamp(common.Timestamp);
    const now = this.options.clock.now();
    if (Math.abs(now - sentAt) > MAX_CLOCK_SKEW_MS) throw apiErrors.timestampExpired();
    if (common.AccessKeyId !== this.options.accessKeyId) throw apiErrors.accessKeyNotFound();
    const expected = computeRpcSignature(httpMethod, params, this.options.accessKeySecret);
    if (!signatureMatches(expected, common.Signature)) throw apiErrors.signatureMismatch(stringToSign(httpMethod, params));
    // Checked after the signature, so that a forged request cannot use up a client's nonce.
    this.forgetOldNonces(now);
    if (this.seenNonces.has(common.SignatureNonce)) throw apiErrors.nonceUsed();
    this.seenNonces.set(common.SignatureNonce, now);
  }

  private forgetOldNonces(now: number): void {
    // A nonce older than the skew window cannot come back: its Timestamp would be refused first.
    for (const [nonce, seenAt] of this.seenNonces) {
      if (now - seenAt <= 3 * MAX_CLOCK_SKEW_MS) break;
      this.seenNonces.delete(nonce);
    }
  }
}

function reply(response: ServerResponse, status: number, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json;charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}
