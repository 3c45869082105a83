import { DEFAULT_BUNDLE_LIMITS } from '../bundle/limits.ts';

/**
 * Request size limits of the approval API.
 *
 * Function Compute 3.0 refuses a synchronous invocation's HTTP request body over 32 MB before it
 * reaches the function ("Can I modify the limit on the body size of an HTTP request?",
 * https://www.alibabacloud.com/help/en/functioncompute/fc-3-0/http-body-be-modified). The local
 * twin's HTTP trigger refuses the same.
 */
export const FC_HTTP_TRIGGER_MAX_BODY_BYTES = 32 * 1024 * 1024;

/** A bundle upload: what the bucket path accepts (the bundle limit), unless FC's own limit is lower. */
export const MAX_BUNDLE_UPLOAD_BYTES = Math.min(DEFAULT_BUNDLE_LIMITS.maxCompressedBytes, FC_HTTP_TRIGGER_MAX_BODY_BYTES);

/** A decision's JSON body: a comment of at most 2,000 characters and who decided. */
export const MAX_DECISION_BODY_BYTES = 64 * 1024;

export function formatBytes(bytes: number): string {
  const MiB = 1024 * 1024;
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
