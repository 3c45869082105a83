/**
 * What the two in-memory Alidns fakes share (GTM 2.0 `DnsGtm*`, alidns-msw.ts; GTM 3.0 `CloudGtm*`,
 * cloudgtm-msw.ts): msw handlers on the endpoint (POST and GET, query params merged into the
 * form-encoded body), a log of every call, faults injected in place of the next calls, the common
 * RPC checks (alidns-msw-params.ts: signature, version, timestamp, nonce), and Alibaba's error body
 * `{RequestId, HostId, Code, Message, Recommend}` with its HTTP status. Each fake answers the
 * actions of its generation in `dispatch`.
 */
import { randomUUID } from 'node:crypto';
import { http, HttpResponse, type HttpHandler } from 'msw';
import { rpcRequestParams } from '#shared/traffic/adapters/aliyun/rpc-signature.ts';
import { checkCommonParams, WireError, type Params } from './alidns-msw-params.ts';

export interface FakeRpcOptions {
  endpoint: string;
  /** AccessKeyId -> AccessKeySecret. */
  keys: Record<string, string>;
}

/** A fault answered instead of the next matching calls. */
export interface Fault {
  action?: string;
  times: number;
  status: number;
  code?: string;
  message?: string;
  /** A raw body instead of the JSON error (e.g. a gateway's HTML page). */
  rawBody?: string;
}

/** One request, with where its parameters travelled (pop-core's POST puts them all in the body). */
export interface RpcCall {
  action: string;
  method: string;
  query: string;
  params: Record<string, string>;
}

const HOST_ID = 'alidns.aliyuncs.com';

export abstract class FakeRpcService {
  readonly calls: RpcCall[] = [];
  private readonly faults: Fault[] = [];
  private readonly nonces = new Set<string>();

  constructor(private readonly rpc: FakeRpcOptions) {}

  handlers(): HttpHandler[] {
    const url = `${this.rpc.endpoint.replace(/\/$/, '')}/`;
    const handle = async ({ request }: { request: Request }) => this.handle(request);
    return [http.post(url, handle), http.get(url, handle)];
  }

  /** The next `times` calls (of `action`, or any) get this answer instead. */
  inject(fault: Fault): void {
    this.faults.push({ ...fault });
  }

  callsOf(action: string): number {
    return this.calls.filter((c) => c.action === action).length;
  }

  /** The answer to a call that passed the common checks (throws WireError to refuse it). */
  protected abstract dispatch(action: string, params: Record<string, string>): Params;

  private async handle(request: Request): Promise<Response> {
    const requestId = randomUUID().toUpperCase();
    const params = rpcRequestParams(request.url, await request.text(), request.headers.get('content-type'));
    const action = params.Action ?? '';
    this.calls.push({ action, method: request.method, query: new URL(request.url).search, params });
    try {
      const fault = this.takeFault(action);
      if (fault) {
        if (fault.rawBody !== undefined)
          return new HttpResponse(fault.rawBody, { status: fault.status, headers: { 'content-type': 'text/html' } });
        if (fault.code === undefined) return HttpResponse.json({ RequestId: requestId }, { status: fault.status });
        throw new WireError(fault.status, fault.code, fault.message ?? `${fault.code} injected`);
      }
      checkCommonParams(request.method, params, this.rpc.keys, this.nonces);
      return HttpResponse.json({ RequestId: requestId, ...this.dispatch(action, params) });
    } catch (err) {
      if (!(err instanceof WireError)) throw err;
      const recommend = `https://api.alibabacloud.com/troubleshoot?intl_lang=EN_US&q=${err.code}&product=Alidns&requestId=${requestId}`;
      return HttpResponse.json(
        { RequestId: requestId, HostId: HOST_ID, Code: err.code, Message: err.message, Recommend: recommend },
        { status: err.status },
      );
    }
  }

  private takeFault(action: string): Fault | undefined {
    const fault = this.faults.find((f) => f.times > 0 && (f.action === undefined || f.action === action));
    if (fault) fault.times--;
    return fault;
  }
}

/** One page of `rows` in the List / Describe answer shape, the items wrapped as `{[wrapper]: {[item]: [...]}}`. */
export function pageOf(rows: Params[], pageNumber: number, pageSize: number, wrapper: string, item: string): Params {
  return {
    TotalItems: rows.length,
    TotalPages: Math.ceil(rows.length / pageSize),
    PageNumber: pageNumber,
    PageSize: pageSize,
    [wrapper]: { [item]: rows.slice((pageNumber - 1) * pageSize, pageNumber * pageSize) },
  };
}
