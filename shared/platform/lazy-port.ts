/**
 * A port whose adapter is loaded on first use: the adapter's SDK stays out of a cold start until a
 * request needs it. Every method call awaits the adapter, then forwards; a failed load is retried
 * by the next call. Only for ports whose members are all methods returning promises (the type
 * says so), so the caller cannot tell the difference. One helper for every lazily loaded adapter, after unstorage's
 * lazy driver import: a new port method needs no edit here.
 */
/** A port: every member is a method returning a promise, so a call can wait for the adapter. */
type AsyncPort<T> = { [K in keyof T]: (...args: never[]) => Promise<unknown> };

export function lazyPort<T extends AsyncPort<T>>(load: () => Promise<T>): T {
  let loading: Promise<T> | undefined;
  const adapter = () =>
    (loading ??= load().catch((err: unknown) => {
      loading = undefined;
      throw err;
    }));
  return new Proxy({} as T, {
    get(_target, method) {
      // `then` must stay undefined, or `await port` would treat the port as a promise.
      if (method === 'then') return undefined;
      return async (...args: unknown[]) => {
        const port = await adapter();
        const member = (port as Record<PropertyKey, unknown>)[method];
        if (typeof member !== 'function') throw new TypeError(`${String(method)} is not a method of the lazily loaded port`);
        return member.apply(port, args);
      };
    },
  });
}
