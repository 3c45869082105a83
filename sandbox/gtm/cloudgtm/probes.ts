import type { Clock } from '#shared/platform/clock.ts';
import type { Logger } from '#shared/platform/log.ts';
import { runCheck, type CheckSpec } from '../probes.ts';
import type { ProtocolType } from '../state.ts';
import { taskKey, type CloudAddress, type CloudGtmStore, type HealthTask, type MonitorTemplate, type TaskHealth } from './model.ts';

/**
 * Real health checks for GTM 3.0: one loop per address and health task, run by the task's
 * template (protocol, interval, timeout, ExtendInfo) on the task's port, with the checks of
 * ../probes.ts and the same rule: a task turns unhealthy after `EvaluationCount` consecutive
 * failures and healthy again after as many successes. FailureRate and the detection points have
 * one location to average and are ignored; ping tasks are not run (no privileges) and count as
 * healthy. The address's HealthJudgement over its tasks is model.ts's.
 */

export interface CloudHealthChange {
  addressId: string;
  addr: string;
  templateId: string;
  healthy: boolean;
  at: number;
  lastResult: string;
}

interface CloudProberOptions {
  store: CloudGtmStore;
  clock: Clock;
  logger: Logger;
  intervalScale: number;
  portOverride?: (addr: string, port: number) => number;
  onChange(change: CloudHealthChange): void;
}

interface Loop {
  configKey: string;
  timer?: NodeJS.Timeout;
}

const PROTOCOL: Record<MonitorTemplate['protocol'], ProtocolType> = { http: 'HTTP', https: 'HTTPS', tcp: 'TCP', ping: 'PING' };

export class CloudHealthProber {
  private readonly loops = new Map<string, Loop>();
  private readonly stopController = new AbortController();

  constructor(private readonly options: CloudProberOptions) {}

  intervalMs(template: Pick<MonitorTemplate, 'interval'>): number {
    return Math.max(10, template.interval * 1000 * this.options.intervalScale);
  }

  /** Starts, restarts or ends loops so that they match the addresses' tasks and templates now configured. */
  sync(): void {
    if (this.stopController.signal.aborted) return;
    const wanted = new Map<string, string>();
    for (const address of this.options.store.addresses.values()) {
      for (const task of address.healthTasks) {
        const template = this.options.store.templates.get(task.templateId);
        if (template && template.protocol !== 'ping') wanted.set(taskKey(address.id, task), loopConfig(address, task, template));
      }
    }
    for (const [key, loop] of this.loops) {
      if (wanted.get(key) !== loop.configKey) {
        clearTimeout(loop.timer);
        this.loops.delete(key);
      }
    }
    for (const [key, configKey] of wanted) {
      if (this.loops.has(key)) continue;
      const loop: Loop = { configKey };
      this.loops.set(key, loop);
      void this.cycle(key, loop);
    }
  }

  stop(): void {
    this.stopController.abort();
    for (const loop of this.loops.values()) clearTimeout(loop.timer);
    this.loops.clear();
  }

  private async cycle(key: string, loop: Loop): Promise<void> {
    const { store, clock } = this.options;
    const [addressId] = key.split('|');
    const address = store.addresses.get(addressId ?? '');
    const task = address?.healthTasks.find((t) => taskKey(address.id, t) === key);
    const template = task ? store.templates.get(task.templateId) : undefined;
    if (!address || !task || !template || this.loops.get(key) !== loop) return;
    const startedAt = clock.now();
    const spec: CheckSpec = {
      protocolType: PROTOCOL[template.protocol],
      timeout: template.timeout,
      settings: { ...template.settings, ...(task.port === undefined ? {} : { port: task.port }) },
    };
    const result = await runCheck(spec, address.address, {
      stopSignal: this.stopController.signal,
      ...(this.options.portOverride ? { portOverride: this.options.portOverride } : {}),
    });
    // The configuration changed or the emulator stopped while the check ran: this loop is over.
    if (this.loops.get(key) !== loop) return;
    this.record(address, task, template, result);
    const wait = Math.max(0, this.intervalMs(template) - (clock.now() - startedAt));
    loop.timer = setTimeout(() => void this.cycle(key, loop), wait);
  }

  private record(address: CloudAddress, task: HealthTask, template: MonitorTemplate, result: { ok: boolean; detail: string }): void {
    const { store, clock } = this.options;
    const key = taskKey(address.id, task);
    const before: TaskHealth = store.health.get(key) ?? { healthy: true, consecutiveFailures: 0, consecutiveSuccesses: 0 };
    const after: TaskHealth = {
      healthy: before.healthy,
      consecutiveFailures: result.ok ? 0 : before.consecutiveFailures + 1,
      consecutiveSuccesses: result.ok ? before.consecutiveSuccesses + 1 : 0,
      lastCheckedAt: clock.now(),
      lastResult: result.detail,
    };
    if (before.healthy && after.consecutiveFailures >= template.evaluationCount) after.healthy = false;
    if (!before.healthy && after.consecutiveSuccesses >= template.evaluationCount) after.healthy = true;
    store.health.set(key, after);
    if (after.healthy === before.healthy) return;
    const change: CloudHealthChange = {
      addressId: address.id,
      addr: address.address,
      templateId: template.id,
      healthy: after.healthy,
      at: after.lastCheckedAt ?? clock.now(),
      lastResult: result.detail,
    };
    this.options.logger.info(after.healthy ? 'gtm emulator: address check healthy again' : 'gtm emulator: address check failing', {
      ...change,
    });
    this.options.onChange(change);
  }
}

function loopConfig(address: CloudAddress, task: HealthTask, template: MonitorTemplate): string {
  const { protocol, interval, evaluationCount, timeout, extendInfo } = template;
  return JSON.stringify([address.address, task.port, protocol, interval, evaluationCount, timeout, extendInfo]);
}
