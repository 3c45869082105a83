import { createHmac } from 'node:crypto';

/**
 * The HMAC-SHA256 request signature tricenter uses both ways: the approval API checks it on signed
 * requests (shared/delivery/approval/auth.ts), and the generic webhook notifier signs with it.
 * `v1=<hex>` over `<timestamp>.<METHOD>.<path>.<body>`.
 */
export function signRequest(secret: string, timestamp: number, method: string, path: string, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${method.toUpperCase()}.${path}.${body}`).digest('hex');
  return `v1=${mac}`;
}
