import * as z from 'zod/mini';

/** HTTP trigger of a built-in runtime (FC 3.0 request struct, version v1; samples: events/http-*.json). */
export const httpTriggerEventSchema = z.object({
  version: z.optional(z.literal('v1')),
  rawPath: z.string(),
  body: z._default(z.string(), ''),
  isBase64Encoded: z._default(z.boolean(), false),
  headers: z._default(z.record(z.string(), z.string()), {}),
  queryParameters: z._default(z.record(z.string(), z.string()), {}),
  requestContext: z.looseObject({
    requestId: z.optional(z.string()),
    http: z.looseObject({ method: z.string(), path: z.optional(z.string()), sourceIp: z.optional(z.string()) }),
  }),
});
export type HttpTriggerEvent = z.infer<typeof httpTriggerEventSchema>;

/** What a built-in runtime's HTTP-triggered handler returns. */
export interface HttpTriggerResponse {
  statusCode: number;
  headers: Record<string, string>;
  isBase64Encoded: boolean;
  body: string;
}

export function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpTriggerResponse {
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, isBase64Encoded: false, body: JSON.stringify(body) };
}
