/** The configuration and keys of the cold-start bench's functions (bench/coldstart.bench.ts) and of its fake cloud. */
export const COLDSTART_ENV = {
  TRICENTER_REGION: 'cn-hangzhou',
  TRICENTER_BUCKET: 'tricenter-bench',
  TRICENTER_OTS_INSTANCE: 'tricenter',
  TRICENTER_OTS_ENDPOINT: 'https://tricenter.cn-hangzhou.ots.aliyuncs.com',
  TRICENTER_GTM_INSTANCE_ID: 'gtm-bench',
  TRICENTER_APPROVAL_TOKENS: 'bench:approver:bench-approver-token-0123456789',
  TRICENTER_APPROVAL_HMAC_SECRET: 'bench-hmac-secret-0123456789abcdef',
  TRICENTER_LOG_LEVEL: 'error',
} as const;
export const COLDSTART_KEYS = { accessKeyId: 'STS.bench', accessKeySecret: 'bench-secret', securityToken: 'bench-token' };
export const COLDSTART_ACCOUNT = '1234567890123456';
