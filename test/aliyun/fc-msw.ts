import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { http, HttpResponse } from 'msw';

/**
 * Function Compute 3.0's InvokeFunction behind msw: POST /2023-03-30/functions/{name}/invocations,
 * the ACS3-HMAC-SHA256 Authorization recomputed with the OpenAPI core's own signer over the signed
 * headers (x-acs-*, host, content-type) and the x-acs-content-sha256 of the body, the STS token
 * header, `x-fc-invocation-type: Async`, `x-fc-async-task-id` (FC's character rules; a task id seen
 * before is refused with 409), the body kept as the event. Answers 202 with x-fc-request-id like
 * FC; errors are JSON `{Code, Message, RequestId}`. Accepted events go to `onEvent`.
 */

const signer = (
  createRequire(import.meta.url)('@alicloud/openapi-core/dist/utils.js') as {
    default: {
      getAuthorization(
        request: { pathname: string; method: string; query: Record<string, string>; headers: Record<string, string> },
        algorithm: string,
        payload: string,
        id: string,
        secret: string,
      ): string;
    };
  }
).default;

const TASK_ID = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;

export interface FcInvocation {
  functionName: string;
  taskId: string | null;
  invocationType: string | null;
  qualifier: string | null;
  body: Buffer;
  status: number;
  securityToken: string | null;
}

export class FakeFc {
  readonly invocations: FcInvocation[] = [];
  private readonly seenTaskIds = new Set<string>();
  private readonly faults: Array<{ status: number; code: string }> = [];
  private requestCount = 0;
  onEvent: (functionName: string, event: Buffer) => void = () => {};

  constructor(
    private readonly options: { endpoint: string; functions: string[]; keys: Record<string, { secret: string; stsToken?: string }> },
  ) {}

  /** The next invocations fail with these statuses, in order. */
  failNext(...faults: Array<{ status: number; code: string }>): void {
    this.faults.push(...faults);
  }

  handlers() {
    return [
      http.post(`${this.options.endpoint}/2023-03-30/functions/:name/invocations`, ({ request, params }) =>
        this.serve(String(params.name), request),
      ),
    ];
  }

  private async serve(functionName: string, request: Request): Promise<Response> {
    const body = Buffer.from(await request.arrayBuffer());
    const url = new URL(request.url);
    const requestId = `1-fake-${++this.requestCount}`;
    const invocation: FcInvocation = {
      functionName,
      taskId: request.headers.get('x-fc-async-task-id'),
      invocationType: request.headers.get('x-fc-invocation-type'),
      qualifier: url.searchParams.get('qualifier'),
      body,
      status: 202,
      securityToken: request.headers.get('x-acs-security-token'),
    };
    this.invocations.push(invocation);
    const fail = (status: number, code: string, message: string) => {
      invocation.status = status;
      return HttpResponse.json(
        { Code: code, Message: message, RequestId: requestId },
        { status, headers: { 'x-fc-request-id': requestId } },
      );
    };

    const denied = this.authenticate(request, url, body);
    if (denied) return fail(403, denied, 'the request signature does not conform to Aliyun standards');
    const fault = this.faults.shift();
    if (fault) return fail(fault.status, fault.code, 'injected by the test');
    if (!this.options.functions.includes(functionName)) return fail(404, 'FunctionNotFound', `function ${functionName} does not exist`);
    if (invocation.invocationType !== 'Async') return fail(400, 'InvalidArgument', 'this fake serves asynchronous invocations only');
    if (invocation.taskId !== null) {
      if (!TASK_ID.test(invocation.taskId)) return fail(400, 'InvalidArgument', `async task id ${invocation.taskId} is not valid`);
      // FC documents 409 for a repeated task id; the adapter decides on the status alone.
      if (this.seenTaskIds.has(invocation.taskId)) return fail(409, 'AsyncTaskAlreadyExist', `task ${invocation.taskId} exists`);
      this.seenTaskIds.add(invocation.taskId);
    }
    this.onEvent(functionName, body);
    return new HttpResponse(null, {
      status: 202,
      headers: { 'x-fc-request-id': requestId, ...(invocation.taskId ? { 'x-fc-async-task-id': invocation.taskId } : {}) },
    });
  }

  private authenticate(request: Request, url: URL, body: Buffer): string | undefined {
    const authorization = request.headers.get('authorization') ?? '';
    const match = /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})$/.exec(authorization);
    const account = match ? this.options.keys[match[1]!] : undefined;
    if (!match || !account) return 'InvalidAccessKeyId.NotFound';
    if (account.stsToken !== undefined && request.headers.get('x-acs-security-token') !== account.stsToken)
      return 'InvalidSecurityToken.Mismatch';
    const payload = createHash('sha256').update(body).digest('hex');
    if (request.headers.get('x-acs-content-sha256') !== payload) return 'ContentSHA256Mismatch';
    const signedNames = match[2]!.split(';');
    if (!signedNames.includes('host') || !signedNames.includes('x-acs-date')) return 'SignatureDoesNotMatch';
    const headers = Object.fromEntries(signedNames.map((name) => [name, request.headers.get(name) ?? '']));
    const query = Object.fromEntries(url.searchParams);
    const expected = signer.getAuthorization(
      { pathname: url.pathname, method: request.method, query, headers },
      'ACS3-HMAC-SHA256',
      payload,
      match[1]!,
      account.secret,
    );
    return expected === authorization ? undefined : 'SignatureDoesNotMatch';
  }
}
