import { AlidnsGtm } from '#shared/traffic/adapters/aliyun/alidns-gtm.ts';
import { describeGtmContract } from '../contract/gtm.contract.ts';
import { subjectAdapterOptions } from '../contract/gtm-subject.ts';
import { emulatorTarget, startTestEmulator } from './helpers.ts';

/**
 * The Gtm port's contract through the real adapter against the emulator (the local twin's GTM),
 * with health checks probing fast while the contract runs: probing must never disturb what the
 * API returns. test/traffic/gtm-contract.test.ts runs the same suite against the msw handlers.
 */
describeGtmContract('AlidnsGtm adapter + local GTM emulator probing every 150 ms', async () => {
  const { emulator } = await startTestEmulator({ instanceId: 'gtm-cn-contract', probeIntervalScale: 0.01 });
  return {
    makeGtm: (asked) => new AlidnsGtm(subjectAdapterOptions(emulatorTarget(emulator), asked)),
    teardown: () => emulator.stop(),
  };
});
