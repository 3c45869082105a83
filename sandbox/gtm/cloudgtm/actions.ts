import { addressActions } from './actions-addresses.ts';
import { configActions } from './actions-configs.ts';
import { poolActions } from './actions-pools.ts';
import { templateActions } from './actions-templates.ts';
import type { CloudActionHandler } from './context.ts';

/** Every GTM 3.0 action the emulator serves, by its wire name (the `CloudGtm*` actions of Alidns 2015-01-09). */
export const cloudGtmActions: Readonly<Record<string, CloudActionHandler>> = {
  ...templateActions,
  ...addressActions,
  ...poolActions,
  ...configActions,
};
