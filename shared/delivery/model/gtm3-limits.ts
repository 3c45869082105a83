/**
 * Probe timeouts a GTM 3.0 health-check template accepts (CreateCloudGtmMonitorTemplate.Timeout, ms).
 * A module of its own, without zod: the traffic planner needs it on gtm-reconcile's cold start.
 */
export const GTM3_PROBE_TIMEOUTS: readonly number[] = [2000, 3000, 5000, 10000];
