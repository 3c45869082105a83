// Layer rules of tricenter (README "What it is", /work/shared/DESIGN.md "Layers"), checked by `npm test`.
// From the bottom: shared/core, shared/model; shared/platform (triggers' event shapes, handler wrapper, lazy port:
// depends on core only); the pure core (render, workflow, traffic, tenancy); shared/bundle (the bundle loader);
// shared/ports; shared/usecases; shared/approval (the approval feature's services over the use cases);
// shared/adapters/*; functions/*; sandbox/; local/; cli/; scripts/, bench/, test/ on top.
// Each rule below says what a layer must NOT import; the exceptions are narrow and say why.
const SDKS = '^node_modules/(@alicloud|ali-oss|tablestore|@kubernetes|better-sqlite3|selfsigned|dns-packet|commander|tsx|esbuild)(/|$)';
const IO_BUILTINS = '^(fs|fs/promises|net|http|https|http2|dgram|dns|tls|child_process|worker_threads|cluster)$';
const PURE = '^shared/(core|model|render|workflow|traffic|tenancy)/';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles, whatever the layer.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-is-the-bottom',
      comment: 'shared/core (errors, clock, log) imports nothing of the project.',
      severity: 'error',
      from: { path: '^shared/core/' },
      to: { path: '^(shared/(?!core/)|sandbox/|functions/|local/|cli/|scripts/|bench/|test/|bin/)' },
    },
    {
      name: 'model-imports-only-core',
      comment: 'shared/model holds pure records and schemas: it imports only shared/core.',
      severity: 'error',
      from: { path: '^shared/model/' },
      to: { path: '^(shared/(?!core/|model/)|sandbox/|functions/|local/|cli/|scripts/|bench/|test/|bin/)' },
    },
    {
      name: 'platform-imports-only-core',
      comment: 'shared/platform (trigger schemas, handler wrapper, router, lazy port) serves every feature and knows none.',
      severity: 'error',
      from: { path: '^shared/platform/' },
      to: { path: '^(shared/(?!core/|platform/)|sandbox/|functions/|local/|cli/|scripts/|bench/|test/|bin/)' },
    },
    {
      name: 'pure-core-stays-pure',
      comment:
        'render, workflow, traffic and tenancy do no I/O: they import core, model and each other, never ports (but see ' +
        'pure-traffic-reads-gtm-types), use cases, adapters, platform or anything above.',
      severity: 'error',
      from: { path: '^shared/(render|workflow|traffic|tenancy)/' },
      to: {
        path: '^(shared/(ports|usecases|adapters|platform|approval|bundle)/|sandbox/|functions/|local/|cli/|scripts/|bench/|test/|bin/)',
        pathNot: '^shared/ports/gtm\\.port\\.ts$',
      },
    },
    {
      name: 'only-traffic-reads-a-port',
      comment:
        'Exception, issue 14 item 3: pure-core-stays-pure lets shared/ports/gtm.port.ts through because the traffic planner ' +
        'reads the GTM records and the ownership naming that still live there (that file imports only shared/model). ' +
        'render, workflow and tenancy read no port at all. Drop both once those records move out of the port file.',
      severity: 'error',
      from: { path: '^shared/(render|workflow|tenancy)/' },
      to: { path: '^shared/ports/' },
    },
    {
      name: 'pure-core-no-io',
      comment: "No I/O in the core and the model: no file system, sockets, HTTP or processes (node:net's isIP excepted, below).",
      severity: 'error',
      from: { path: PURE, pathNot: '^shared/traffic/planner\\.ts$' },
      to: { dependencyTypes: ['core'], path: IO_BUILTINS },
    },
    {
      name: 'planner-uses-only-isIP',
      comment: 'Exception: shared/traffic/planner.ts imports node:net for isIP, a pure function; no other I/O module.',
      severity: 'error',
      from: { path: '^shared/traffic/planner\\.ts$' },
      to: { dependencyTypes: ['core'], path: IO_BUILTINS, pathNot: '^net$' },
    },
    {
      name: 'no-sdk-below-adapters',
      comment: 'Cloud SDKs, native stores and CLI tooling are for adapters and the layers above them.',
      severity: 'error',
      from: { path: '^shared/(core|model|render|workflow|traffic|tenancy|ports|usecases|approval|platform|bundle)/' },
      to: { path: SDKS },
    },
    {
      name: 'pure-core-packages',
      comment: 'The pure core and the model use zod, yaml and fast-json-patch; any other package is a new decision.',
      severity: 'error',
      from: { path: PURE },
      to: {
        dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'],
        pathNot: '^node_modules/(zod|yaml|fast-json-patch)/',
      },
    },
    {
      name: 'bundle-loader-below-use-cases',
      comment: 'shared/bundle reads archives safely; it knows core and model, nothing that uses it.',
      severity: 'error',
      from: { path: '^shared/bundle/' },
      to: { path: '^(shared/(?!core/|model/|bundle/)|sandbox/|functions/|local/|cli/|scripts/|bench/|test/|bin/)' },
    },
    {
      name: 'ports-are-interfaces',
      comment: 'A port names the records it speaks (core, model, the workflow and traffic records); never an implementation.',
      severity: 'error',
      from: { path: '^shared/ports/' },
      to: {
        path: '^(shared/(usecases|adapters|platform|approval|bundle|render|tenancy)/|sandbox/|functions/|local/|cli/|scripts/|bench/|test/|bin/)',
      },
    },
    {
      name: 'use-cases-never-adapters',
      comment:
        'Use cases import core, model, the pure core, ports, the bundle loader and the trigger event shapes they send ' +
        '(shared/platform/triggers); never adapters, the handler wrapper or anything above.',
      severity: 'error',
      from: { path: '^shared/usecases/' },
      to: {
        path: '^(shared/(adapters|approval)/|shared/platform/(?!triggers/)|sandbox/|functions/|local/|cli/|scripts/|bench/|test/|bin/)',
      },
    },
    {
      name: 'approval-services-never-adapters',
      comment: 'shared/approval (auth, decisions, idempotency, uploads) sits on the use cases; it never picks an adapter.',
      severity: 'error',
      from: { path: '^shared/approval/' },
      to: { path: '^(shared/(adapters|platform)/|sandbox/|functions/|local/|cli/|scripts/|bench/|test/|bin/)' },
    },
    {
      name: 'adapters-implement-ports',
      comment:
        'Adapters import core, model, ports, the run records (shared/workflow) and the trigger event shapes; never use ' +
        'cases, the approval services or anything above.',
      severity: 'error',
      from: { path: '^shared/adapters/' },
      to: {
        path: '^(shared/(usecases|approval|render|traffic|tenancy|bundle)/|sandbox/|functions/|local/|cli/|scripts/|bench/|test/|bin/)',
      },
    },
    {
      name: 'adapter-families-apart',
      comment: 'One adapter family (aliyun, kube, local, the bucket-backed release objects) does not reach into another.',
      severity: 'error',
      from: { path: '^shared/adapters/([^/]+)/', pathNot: '^shared/adapters/kube/connections\\.ts$' },
      to: { path: '^shared/adapters/[^/]+/', pathNot: '^shared/adapters/$1/' },
    },
    {
      name: 'kube-connections-reads-ack-type',
      comment:
        'Exception: shared/adapters/kube/connections.ts takes an ACK kubeconfig source, whose type lives with the aliyun ' +
        'adapter (shared/adapters/aliyun/ack-kubeconfig.ts); the type only, and no other aliyun file.',
      severity: 'error',
      from: { path: '^shared/adapters/kube/connections\\.ts$' },
      to: {
        path: '^shared/adapters/(?!kube/)',
        pathNot: '^shared/adapters/aliyun/ack-kubeconfig\\.ts$',
      },
    },
    {
      name: 'kube-connections-ack-type-only',
      comment: 'The exception above is a type import: the kube adapter never loads the Alibaba Cloud SDK path itself.',
      severity: 'error',
      from: { path: '^shared/adapters/kube/connections\\.ts$' },
      to: { path: '^shared/adapters/aliyun/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'functions-below-the-twin',
      comment: 'The cloud functions compose adapters and call use cases; the twin, the sandbox and the CLI sit above them.',
      severity: 'error',
      from: { path: '^functions/' },
      to: { path: '^(sandbox/|local/|cli/|scripts/|bench/|test/|bin/)' },
    },
    {
      name: 'functions-apart',
      comment: "A function does not reach into another function's folder; what they share is functions/cloud.ts or shared/.",
      severity: 'error',
      from: { path: '^functions/([^/]+)/' },
      to: { path: '^functions/[^/]+/', pathNot: '^functions/$1/' },
    },
    {
      name: 'sandbox-stands-alone',
      comment: 'The simulated clusters and the GTM emulator know only shared/core and shared/model: they fake the cloud, not tricenter.',
      severity: 'error',
      from: { path: '^sandbox/' },
      to: { path: '^(shared/(?!core/|model/)|functions/|local/|cli/|scripts/|bench/|test/|bin/)' },
    },
    {
      name: 'twin-below-cli',
      comment: 'local/ composes the twin from shared, sandbox and functions; the CLI, scripts, benches and tests sit above.',
      severity: 'error',
      from: { path: '^local/' },
      to: { path: '^(cli/|scripts/|bench/|test/|bin/)' },
    },
    {
      name: 'cli-below-tools',
      comment: 'The CLI never imports the build scripts, benches or tests.',
      severity: 'error',
      from: { path: '^cli/' },
      to: { path: '^(scripts/|bench/|test/)' },
    },
    {
      name: 'production-never-imports-tests',
      comment: 'Nothing that ships imports test/ or bench/ (production code has no test hooks).',
      severity: 'error',
      from: { path: '^(shared|functions|sandbox|local|cli|bin|scripts)/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that resolves to nothing is a typo or a missing package.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
