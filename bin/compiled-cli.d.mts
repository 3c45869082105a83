// Types of compiled-cli.mjs for the TypeScript that imports it (the build script, the bench, the tests).
export declare const BUILD_MANIFEST: string;
export declare function sha256(bytes: Uint8Array | string): string;
export declare function compiledCli(buildDir: string, root: string): { entry: string } | { stale: string };
