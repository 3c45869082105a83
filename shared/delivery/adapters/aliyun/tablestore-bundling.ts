import { readFile } from 'node:fs/promises';
import type { Plugin } from 'esbuild';

/**
 * Build-time only (scripts/build.ts): makes the `tablestore` SDK work inside an esbuild bundle.
 *
 * The SDK (5.6.x) assigns to undeclared variables (`for (key in ...)` in the PlainBuffer size
 * computation that every request runs, `for (pro in ...)` in Condition, `size = ...`,
 * `for (sub in ...)`, `cell_type = ...`). That works in sloppy-mode CommonJS, but an esbuild bundle
 * of our ESM sources is strict mode throughout (`"use strict"` on top of a CJS bundle; an ESM
 * bundle is strict by definition), and then the first request throws
 * `ReferenceError: key is not defined`. This plugin declares those names as module-local `var`s at
 * the top of each SDK file, which is exactly what sloppy mode did minus the leak into globalThis.
 * The list was taken from `tsc --checkJs` over node_modules/tablestore/lib (TS2304 errors).
 */
export const TABLESTORE_UNDECLARED_NAMES = ['key', 'pro', 'sub', 'size', 'cell_type'] as const;

export function tablestoreStrictModePlugin(): Plugin {
  return {
    name: 'tablestore-strict-mode',
    setup(build) {
      build.onLoad({ filter: /[\\/]node_modules[\\/]tablestore[\\/]lib[\\/].*\.js$/ }, async (args) => ({
        contents: `var ${TABLESTORE_UNDECLARED_NAMES.join(', ')};\n${await readFile(args.path, 'utf8')}`,
        loader: 'js',
      }));
    },
  };
}
