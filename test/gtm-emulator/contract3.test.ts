import { AlidnsCloudGtm } from '#shared/traffic/adapters/aliyun/alidns-cloudgtm.ts';
import { describeCloudGtmContract } from '../contract/cloudgtm.contract.ts';
import { subjectAdapterOptions } from '../contract/gtm-subject.ts';
import { emulatorTarget, startTestEmulator } from './helpers.ts';

/**
 * The Gtm3 port's contract through the real GTM 3.0 adapter against the emulator in 3.0 mode (the
 * local twin's GTM by default), with health checks probing fast while the contract runs: probing
 * must never disturb what the API returns. test/traffic/ runs the same suite against msw.
 */
describeCloudGtmContract('AlidnsCloudGtm adapter + local GTM 3.0 emulator probing every 150 ms', async () => {
  const { emulator } = await startTestEmulator({ gtmVersion: '3.0', instanceId: 'gtm-cn-contract3', probeIntervalScale: 0.01 });
  return {
    makeGtm3: (asked) => new AlidnsCloudGtm(subjectAdapterOptions(emulatorTarget(emulator), asked)),
    teardown: () => emulator.stop(),
  };
});
