import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { lazyProtoTypes } from '#shared/delivery/adapters/aliyun/tablestore-bundling.ts';

/** The build's rewrite of the Tablestore SDK's compiled protobuf module: types built on first access, the same bytes on the wire. */
const require = createRequire(import.meta.url);
const PROTO_PATH = require.resolve('tablestore/lib/protocol/tablestore_compiled_proto.js');
const source = readFileSync(PROTO_PATH, 'utf8');
/** Requires as the SDK's module does, so both see the protobufjs instance the SDK depends on. */
const sdkRequire = createRequire(PROTO_PATH);

type Namespace = Record<
  string,
  { encode(message: unknown): { finish(): Uint8Array }; decode(bytes: Uint8Array): unknown; create(p: unknown): unknown }
>;
type Root = { main: { proto: Namespace }; filter: { proto: Namespace }; search: { proto: Namespace } };

/** Evaluates a version of the module as CommonJS, with its own protobufjs root (the SDK registers its types on `roots.default`). */
function load(text: string): Root {
  const protobuf = sdkRequire('protobufjs/minimal') as { roots: Record<string, unknown> };
  const saved = protobuf.roots.default;
  delete protobuf.roots.default;
  try {
    const module = { exports: {} as Root };
    new Function('require', 'module', 'exports', text)(sdkRequire, module, module.exports);
    return module.exports;
  } finally {
    protobuf.roots.default = saved;
  }
}

describe('lazyProtoTypes', () => {
  it('leaves every type unbuilt until first use, then builds it once', () => {
    const root = load(lazyProtoTypes(source));
    const names = Object.keys(root.main.proto);
    expect(names).toContain('GetRowRequest');
    expect(names.length).toBeGreaterThan(50);
    expect(Object.getOwnPropertyDescriptor(root.main.proto, 'GetRowRequest')?.get).toBeTypeOf('function');
    const type = root.main.proto.GetRowRequest;
    expect(Object.getOwnPropertyDescriptor(root.main.proto, 'GetRowRequest')).toMatchObject({ value: type, writable: true });
    expect(root.main.proto.GetRowRequest).toBe(type);
    expect(Object.getOwnPropertyDescriptor(root.main.proto, 'PutRowRequest')?.get).toBeTypeOf('function');
  });

  it('encodes and decodes exactly as the SDK as shipped, across types that refer to each other and to enums', () => {
    const lazy = load(lazyProtoTypes(source));
    const eager = load(source);
    const message = {
      tableName: 'tricenter_runs',
      rowChange: Buffer.from('row'),
      condition: { rowExistence: 1, columnCondition: Buffer.from('cc') },
      returnContent: { returnType: 1 },
    };
    const lazyType = lazy.main.proto.PutRowRequest!;
    const eagerType = eager.main.proto.PutRowRequest!;
    const lazyBytes = lazyType.encode(lazyType.create(message)).finish();
    const eagerBytes = eagerType.encode(eagerType.create(message)).finish();
    expect(Buffer.from(lazyBytes).equals(Buffer.from(eagerBytes))).toBe(true);
    expect(lazyType.decode(eagerBytes)).toMatchObject({ tableName: 'tricenter_runs', condition: { rowExistence: 1 } });
    expect(Object.keys(lazy.filter.proto).length).toBe(Object.keys(eager.filter.proto).length);
    expect(Object.keys(lazy.search.proto).length).toBe(Object.keys(eager.search.proto).length);
  });

  it('fails the build, naming the SDK, when the module no longer has the shape it rewrites', () => {
    expect(() => lazyProtoTypes('module.exports = {};')).toThrow(
      /tablestore_compiled_proto\.js no longer has the shape .* check the tablestore SDK version/,
    );
    const unclosed = source.replace(/^ {8}\}\)\(\);$/m, '        })() ;');
    expect(() => lazyProtoTypes(unclosed)).toThrow(/no longer has the shape/);
  });
});
