import { afterAll, beforeAll, describe } from 'vitest';
import { kubeBinariesAvailable } from '../helpers/envtest.ts';
import { deploySeedToRunning } from '../e2e/helpers.ts';
import { createOutsideObject, describeOwnershipAttacks } from '../hostile/ownership-cases.ts';
import { World } from '../hostile/world.ts';
import { REAL_CLUSTERS, startRealTwin, type RealTwin } from './real-twin.ts';

/**
 * The hostile suite's ownership attacks against real kube-apiservers: what the API server itself
 * says (dry runs, conflicts, validation) must refuse them as the sandbox does, with nothing written.
 */
describe.skipIf(!kubeBinariesAvailable())('hostile bundles on three real kube-apiservers', () => {
  let real: RealTwin;
  let world: World;

  beforeAll(async () => {
    // The hostile world reads GTM 2.0's shapes (test/hostile/world.ts), as the sandbox suite does.
    real = await startRealTwin({ gtmVersion: '2.0' });
    world = new World(
      real.kubeconfig,
      REAL_CLUSTERS.map((c) => c.name),
      real.twin.gtm,
    );
    await deploySeedToRunning(real.client);
    await createOutsideObject(world);
  }, 240_000);

  afterAll(async () => {
    await real?.stop();
  });

  describeOwnershipAttacks(() => ({ client: real.client, world }));
});
