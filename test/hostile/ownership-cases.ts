import { describe, expect, it } from 'vitest';
import type { ApiClient } from '#cli/client.ts';
import type { AppRef } from '#shared/delivery/model/ownership.ts';
import { application, configMap, expectUnchanged, ingest, runEnd, yamlBundle, type World } from './world.ts';

/**
 * Attacks on objects that belong to another application (or to nobody tricenter knows), from the
 * victim's own tenant, so tenancy lets them through and ownership alone must stop them. Shared by
 * the sandbox suite and the real kube-apiserver suite: the victim is the seed (demo/web-demo),
 * running on cluster1-beijing and cluster2-beijing.
 */

export interface HostileContext {
  client: ApiClient;
  world: World;
}

const DEMO = (name: string): AppRef => ({ namespace: 'demo', name });

export const victimConfig = () => configMap('demo', 'web-demo', { 'config.json': '{"database-host": "attacker.example.com"}' });

/** A ConfigMap created with kubectl, outside tricenter, in the victim's namespace. */
export async function createOutsideObject(world: World): Promise<void> {
  await world.api('cluster1-beijing').create(configMap('demo', 'legacy-settings', { owner: 'ops' }) as never);
}

export function describeOwnershipAttacks(context: () => HostileContext): void {
  describe('ownership: refused before the step’s first write, nothing applied', () => {
    const expectRefusedAtDeploy = async (app: AppRef, documents: string[], reason: RegExp) => {
      const { client, world } = context();
      const before = await world.snapshot();
      const outcome = await ingest(client, yamlBundle(app, documents));
      expect(outcome.outcome).toBe('run-started');
      const ended = await runEnd(client, app);
      expect(ended.phase).toBe('workflowFailed');
      expect(ended.reason).toMatch(reason);
      await expectUnchanged(world, before);
    };

    it('another application’s object (the victim’s ConfigMap), even in its own tenant', async () => {
      await expectRefusedAtDeploy(
        DEMO('hijack'),
        [application(DEMO('hijack'), [configMap('demo', 'hijack-own', { a: 'b' }), victimConfig()])],
        /owned by application demo\/web-demo/,
      );
      // The victim still serves its own configuration.
      const live = (await context().world.read('cluster1-beijing', {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        namespace: 'demo',
        name: 'web-demo',
      })) as { data?: Record<string, string> };
      expect(live.data?.['config.json']).toContain('beijing-db.pg.aliyun.com');
    });

    it('with the victim’s ownership labels forged on the object', async () => {
      const forged = {
        ...victimConfig(),
        metadata: {
          name: 'web-demo',
          namespace: 'demo',
          labels: { 'app.oam.dev/name': 'web-demo', 'app.oam.dev/namespace': 'demo', 'app.kubernetes.io/managed-by': 'tricenter' },
        },
      };
      await expectRefusedAtDeploy(
        DEMO('forger'),
        [application(DEMO('forger'), [forged], { version: 'forged-labels' })],
        /owned by application demo\/web-demo/,
      );
    });

    it('with the victim’s labels set by a labels trait', async () => {
      const app = DEMO('relabel');
      const doc = JSON.parse(application(app, [victimConfig()])) as { spec: { components: Array<{ traits?: unknown[] }> } };
      doc.spec.components[0]!.traits = [{ type: 'labels', properties: { 'app.oam.dev/name': 'web-demo' } }];
      await expectRefusedAtDeploy(app, [JSON.stringify(doc)], /owned by application demo\/web-demo/);
    });

    it('declaring it a shared resource when its owner does not share it', async () => {
      const shared = { name: 'share', type: 'shared-resource', properties: { rules: [{ selector: { resourceTypes: ['ConfigMap'] } }] } };
      await expectRefusedAtDeploy(
        DEMO('sharer'),
        [application(DEMO('sharer'), [victimConfig()], { policies: [shared] })],
        /does not share it/,
      );
    });

    it('with a forged shared-by annotation naming itself', async () => {
      const forged = {
        ...victimConfig(),
        metadata: { name: 'web-demo', namespace: 'demo', annotations: { 'app.oam.dev/shared-by': 'demo/web-demo,demo/squatter' } },
      };
      const shared = { name: 'share', type: 'shared-resource', properties: { rules: [{ selector: { resourceNames: ['web-demo'] } }] } };
      await expectRefusedAtDeploy(DEMO('squatter'), [application(DEMO('squatter'), [forged], { policies: [shared] })], /does not share it/);
    });

    it('a take-over policy does not take another application’s object', async () => {
      const takeOver = { name: 'adopt', type: 'take-over', properties: { rules: [{ selector: { resourceTypes: ['ConfigMap'] } }] } };
      await expectRefusedAtDeploy(
        DEMO('taker'),
        [application(DEMO('taker'), [victimConfig()], { policies: [takeOver] })],
        /owned by application demo\/web-demo/,
      );
    });

    it('an object created outside tricenter, without a take-over policy', async () => {
      await expectRefusedAtDeploy(
        DEMO('adopter'),
        [application(DEMO('adopter'), [configMap('demo', 'legacy-settings', { owner: 'adopter' })])],
        /not created by tricenter.*take-over/,
      );
    });

    it('an object created outside tricenter, with a forged take-over annotation instead of a policy', async () => {
      const forged = configMap(
        'demo',
        'legacy-settings',
        { owner: 'forger' },
        { annotations: { 'tricenter.io/resource-policy': 'take-over' } },
      );
      await expectRefusedAtDeploy(DEMO('adopter2'), [application(DEMO('adopter2'), [forged])], /not created by tricenter.*take-over/);
    });

    it('a step over two clusters that one API server refuses: nothing of the step on either cluster', async () => {
      const deployment = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'half', namespace: 'demo' },
        spec: {
          replicas: -1,
          selector: { matchLabels: { app: 'half' } },
          template: { metadata: { labels: { app: 'half' } }, spec: { containers: [{ name: 'web', image: 'registry.example.com/web:1' }] } },
        },
      };
      await expectRefusedAtDeploy(
        DEMO('half'),
        [
          application(DEMO('half'), [configMap('demo', 'half', { a: 'b' }), deployment], {
            clusters: ['cluster1-beijing', 'cluster2-beijing'],
          }),
        ],
        /nothing of this step was applied.*Deployment demo\/half/,
      );
    });
  });
}
