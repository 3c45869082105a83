import { apiErrors } from './api-error.ts';
import type { ParamReader } from './params.ts';
import type { GtmStore } from './state.ts';

/** What an action handler gets: the validated-on-read parameters, the store, the time of the request. */
export interface ActionContext {
  params: ParamReader;
  store: GtmStore;
  now: number;
  /** Called after a write that changes what must be probed (pools, addresses, monitors). */
  probesChanged(): void;
}

export type ActionResult = Record<string, unknown>;
export type ActionHandler = (context: ActionContext) => ActionResult;

export function requireInstance(context: ActionContext): void {
  const instanceId = context.params.requiredString('InstanceId');
  if (instanceId !== context.store.instanceId) throw apiErrors.notFound('InstanceId', instanceId);
}

/** The paging fields every Describe list returns, plus the slice of items on the requested page. */
export function paginate<T>(items: T[], pageNumber: number, pageSize: number): { fields: ActionResult; pageItems: T[] } {
  const totalItems = items.length;
  return {
    fields: {
      TotalItems: totalItems,
      TotalPages: Math.ceil(totalItems / pageSize),
      PageNumber: pageNumber,
      PageSize: pageSize,
    },
    pageItems: items.slice((pageNumber - 1) * pageSize, pageNumber * pageSize),
  };
}
