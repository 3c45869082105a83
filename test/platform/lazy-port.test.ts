import { describe, expect, it } from 'vitest';
import { lazyPort } from '#shared/platform/lazy-port.ts';

interface Greeter {
  greet(name: string): Promise<string>;
  count(): Promise<number>;
}

class LoudGreeter implements Greeter {
  private calls = 0;
  async greet(name: string) {
    this.calls += 1;
    return `HELLO ${name.toUpperCase()}`;
  }
  async count() {
    return this.calls;
  }
}

describe('lazyPort', () => {
  it('loads the adapter on the first call only, and forwards every method with its `this`', async () => {
    let loads = 0;
    const port = lazyPort<Greeter>(async () => {
      loads += 1;
      return new LoudGreeter();
    });
    expect(loads).toBe(0);
    expect(await port.greet('ana')).toBe('HELLO ANA');
    expect(await port.greet('bo')).toBe('HELLO BO');
    expect(await port.count()).toBe(2);
    expect(loads).toBe(1);
  });

  it('loads again after a failed load, and a port can be awaited without being taken for a promise', async () => {
    let attempts = 0;
    const port = lazyPort<Greeter>(async () => {
      attempts += 1;
      if (attempts === 1) throw new Error('SDK chunk missing');
      return new LoudGreeter();
    });
    await expect(port.greet('ana')).rejects.toThrow('SDK chunk missing');
    expect(await port.greet('ana')).toBe('HELLO ANA');
    expect(await Promise.resolve(port)).toBe(port);
  });
});
