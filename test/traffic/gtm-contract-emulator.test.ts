import { AlidnsGtm } from '#shared/adapters/aliyun/alidns-gtm.ts';
import { silentLogger } from '#shared/core/log.ts';
import { startGtmEmulator } from '#sandbox/gtm/index.ts';
import { describeGtmContract } from '../contract/gtm.contract.ts';

describeGtmContract('AlidnsGtm adapter + local GTM emulator', async () => {
  const emulator = await startGtmEmulator({ accessKeyId: 'ak', accessKeySecret: 'sk', logger: silentLogger });
  return {
    makeGtm: ({ pageSize, wrongSecret }) =>
      new AlidnsGtm({ endpoint: emulator.endpoint, instanceId: emulator.instanceId, credentials: { accessKeyId: 'ak', accessKeySecret: wrongSecret ? 'nope' : 'sk' }, maxAttempts: 1, ...(pageSize ? { pageSize } : {}) }),
    teardown: () => emulator.stop(),
  };
});
