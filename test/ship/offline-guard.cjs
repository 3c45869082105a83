// Preloaded (NODE_OPTIONS=--require) into the Serverless Devs CLI by test/ship/s-yaml.test.ts:
// any attempt to resolve a name or open a non-local socket fails at once and is appended to
// $OFFLINE_GUARD_LOG, so the test proves the commands it runs need no network.
const dns = require('node:dns');
const net = require('node:net');
const { appendFileSync } = require('node:fs');

const record = (what) => {
  if (process.env.OFFLINE_GUARD_LOG) appendFileSync(process.env.OFFLINE_GUARD_LOG, `${process.pid} ${what}\n`);
  return Object.assign(new Error(`offline test: network access refused (${what})`), { code: 'EOFFLINE' });
};
const local = (host) => !host || host === 'localhost' || /^127\./.test(host) || host === '::1';

for (const target of [dns, dns.promises]) {
  const original = target.lookup;
  target.lookup = function lookup(host, ...rest) {
    if (local(host)) return original.call(this, host, ...rest);
    const error = record(`lookup ${host}`);
    if (target === dns.promises) return Promise.reject(error);
    const callback = rest.find((arg) => typeof arg === 'function');
    process.nextTick(() => callback(error));
    return undefined;
  };
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  const options =
    typeof args[0] === 'object' && args[0] !== null ? (Array.isArray(args[0]) ? args[0][0] : args[0]) : { port: args[0], host: args[1] };
  if (options.path || local(options.host)) return connect.apply(this, args);
  const error = record(`connect ${options.host}:${options.port}`);
  process.nextTick(() => this.destroy(error));
  return this;
};
