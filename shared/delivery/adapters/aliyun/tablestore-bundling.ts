import { readFile } from 'node:fs/promises';
import type { Plugin } from 'esbuild';

/**
 * Build-time only (scripts/build.ts): makes the `tablestore` SDK work inside an esbuild bundle, and
 * start fast there.
 *
 * Strict mode. The SDK (5.6.x) assigns to undeclared variables (`for (key in ...)` in the
 * PlainBuffer size computation that every request runs, `for (pro in ...)` in Condition,
 * `size = ...`, `for (sub in ...)`, `cell_type = ...`). That works in sloppy-mode CommonJS, but an
 * esbuild bundle of our ESM sources is strict mode throughout (`"use strict"` on top of a CJS
 * bundle; an ESM bundle is strict by definition), and then the first request throws
 * `ReferenceError: key is not defined`. This plugin declares those names as module-local `var`s at
 * the top of each SDK file, which is exactly what sloppy mode did minus the leak into globalThis.
 * The list was taken from `tsc --checkJs` over node_modules/tablestore/lib (TS2304 errors).
 *
 * Lazy message types. `tablestore_compiled_proto.js` (protobufjs static code, 630 KB minified) builds
 * all of Tablestore's ~260 message and enum types when it loads, each an immediately invoked
 * function: most of the SDK's load time, for the handful of types a run store uses. Each
 * `proto.X = (function() {...})();` becomes a getter that runs that function on first access and
 * keeps its value, so a type is compiled and built when a request first encodes or decodes it.
 * The types reach each other only through `$root....proto.X` inside their functions, never while
 * they are built, so the order does not matter. The rewrite checks the file's shape and fails the
 * build when a new SDK version changes it.
 */
export const TABLESTORE_UNDECLARED_NAMES = ['key', 'pro', 'sub', 'size', 'cell_type'] as const;

const LAZY_MEMBER_OPEN = /^ {8}proto\.(\w+) = \(function\(\) \{$/gm;
const LAZY_MEMBER_CLOSE = /^ {8}\}\)\(\);$/gm;

const LAZY_HELPER = `function __tricenterLazy(ns, name, build) {
  Object.defineProperty(ns, name, {
    configurable: true,
    enumerable: true,
    get: function () {
      var value = build();
      Object.defineProperty(ns, name, { value: value, writable: true, configurable: true, enumerable: true });
      return value;
    },
    set: function (value) {
      Object.defineProperty(ns, name, { value: value, writable: true, configurable: true, enumerable: true });
    },
  });
}
`;

/** The compiled protobuf module with every message and enum type built on first access. */
export function lazyProtoTypes(source: string): string {
  const opens = [...source.matchAll(LAZY_MEMBER_OPEN)].map((m) => m.index);
  const closes = [...source.matchAll(LAZY_MEMBER_CLOSE)].map((m) => m.index);
  const paired =
    opens.length > 100 &&
    opens.length === closes.length &&
    opens.every((at, i) => at < closes[i]! && (opens[i + 1] ?? Infinity) > closes[i]!);
  if (!paired) {
    throw new Error(
      `tablestore_compiled_proto.js no longer has the shape the lazy rewrite expects (${opens.length} "proto.X = (function() {" at 8 spaces, ${closes.length} "})();"): check the tablestore SDK version`,
    );
  }
  return `${LAZY_HELPER}${source
    .replace(LAZY_MEMBER_OPEN, (_line, name: string) => `        __tricenterLazy(proto, ${JSON.stringify(name)}, function() {`)
    .replace(LAZY_MEMBER_CLOSE, '        });')}`;
}

export function tablestoreStrictModePlugin(): Plugin {
  return {
    name: 'tablestore-strict-mode',
    setup(build) {
      build.onLoad({ filter: /[\\/]node_modules[\\/]tablestore[\\/]lib[\\/].*\.js$/ }, async (args) => {
        const source = await readFile(args.path, 'utf8');
        const body = /[\\/]tablestore_compiled_proto\.js$/.test(args.path) ? lazyProtoTypes(source) : source;
        return { contents: `var ${TABLESTORE_UNDECLARED_NAMES.join(', ')};\n${body}`, loader: 'js' };
      });
    },
  };
}
