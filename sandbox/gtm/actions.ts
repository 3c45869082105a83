import type { ActionHandler } from './action-context.ts';
import { instanceActions } from './actions-instance.ts';
import { monitorActions } from './actions-monitors.ts';
import { poolActions } from './actions-pools.ts';
import { strategyActions } from './actions-strategies.ts';

/** Every GTM 2.0 action the emulator serves, by its wire name (the 19 of the facts file). */
export const gtmActions: Readonly<Record<string, ActionHandler>> = {
  ...instanceActions,
  ...poolActions,
  ...monitorActions,
  ...strategyActions,
};
