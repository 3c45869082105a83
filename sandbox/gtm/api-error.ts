/**
 * Errors the emulator answers with, in Alibaba's RPC error body shape
 * `{RequestId, HostId, Code, Message, Recommend}` (docs/aliyun-api/alidns-gtm-2015-01-09.json,
 * `common.errorResponse`). Codes and HTTP statuses come from that file where it lists them; the
 * POP gateway codes it does not list (SignatureNonceUsed, InvalidTimeStamp.Expired) use the
 * code and message the gateway is known to return for every RPC product.
 */
export class GtmApiError extends Error {
  constructor(
    readonly apiCode: string,
    readonly httpStatus: number,
    message: string,
  ) {
    super(message);
    this.name = 'GtmApiError';
  }
}

export const apiErrors = {
  missingParameter: (name: string) =>
    new GtmApiError(
      'MissingParameter',
      400,
      `The input parameter "${name}" that is mandatory for processing this request is not supplied.`,
    ),
  invalidParameter: (name: string, why: string) =>
    new GtmApiError('InvalidParameter', 400, `The specified parameter "${name}" is not valid: ${why}`),
  /** The facts file lists no dedicated not-found code for GTM 2.0 objects; InvalidParameter names the field. */
  notFound: (name: string, id: string) =>
    new GtmApiError('InvalidParameter', 400, `The specified parameter "${name}" is not valid: no such object "${id}".`),
  unsupportedOperation: (action: string) =>
    new GtmApiError('UnsupportedOperation', 400, `The specified action "${action}" is not supported.`),
  noSuchVersion: (version: string) =>
    new GtmApiError('NoSuchVersion', 400, `The specified API version "${version}" does not exist; this API is 2015-01-09.`),
  incompleteSignature: (why: string) =>
    new GtmApiError('IncompleteSignature', 400, `The request signature does not conform to Aliyun standards: ${why}`),
  illegalTimestamp: (value: string) =>
    new GtmApiError('IllegalTimestamp', 400, `The input parameter "Timestamp" is not valid: "${value}" is not yyyy-MM-ddTHH:mm:ssZ.`),
  timestampExpired: () => new GtmApiError('InvalidTimeStamp.Expired', 400, 'Specified time stamp or date value is expired.'),
  nonceUsed: () => new GtmApiError('SignatureNonceUsed', 400, 'Specified signature nonce was used already.'),
  accessKeyNotFound: () => new GtmApiError('InvalidAccessKeyId.NotFound', 400, 'Specified access key is not found.'),
  signatureMismatch: (serverStringToSign: string) =>
    new GtmApiError(
      'SignatureDoesNotMatch',
      403,
      `Specified signature is not matched with our calculation. server string to sign is:${serverStringToSign}`,
    ),
  throttled: (code: ThrottleCode) =>
    new GtmApiError(
      code,
      400,
      code === 'Throttling.User'
        ? 'Request was denied due to user flow control.'
        : code === 'Throttling'
          ? 'Request was denied due to request throttling.'
          : 'The system is busy, please try again later.',
    ),
  internal: () => new GtmApiError('InternalError', 500, 'The request processing has failed due to some unknown error.'),
};

export type ThrottleCode = 'Throttling' | 'Throttling.User' | 'DnsGtmSystemBusyness';
