// Layer rules of tricenter (README "Where things live", the design notes "Layers"), checked by `npm test`.
// shared/ is organised by feature: shared/delivery (bundle, model, render, workflow, approval, ports, use cases,
// adapters), shared/traffic (domain, ports, use cases, adapters), shared/tenancy (admission), and shared/platform
// (errors, clock, log, credentials, paging, trigger schemas, handler wrapper, router, lazy port) under all of them.
// Inside a feature, from the bottom: records and the pure core; ports; use cases (and delivery's approval services);
// adapters. Then functions/*; sandbox/; local/; cli/; scripts/, bench/, test/ on top.
// Each rule below says what a layer must NOT import; the exceptions are narrow and say why.
const SDKS = '^node_modules/(@alicloud|ali-oss|tablestore|@kubernetes|better-sqlite3|selfsigned|dns-packet|commander|tsx|esbuild)(/|$)';
const IO_BUILTINS = '^(fs|fs/promises|net|http|https|http2|dgram|dns|tls|child_process|worker_threads|cluster)$';
// The pure core of each feature, and the records it computes on.
const PURE = '^shared/(delivery/(model|render|workflow)|traffic/domain|tenancy)/';
// The platform files every layer may read, the pure core included: typed errors, the clock, the logger, paging.
const PLATFORM_BASE = 'platform/(errors|clock|log|page)\\.ts$';
// Everything outside shared/.
const ABOVE_SHARED = 'sandbox/|functions/|local/|cli/|scripts/|bench/|test/|bin/';

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
      name: 'platform-base-is-the-bottom',
      comment: 'Errors, clock, log and paging (shared/platform) import nothing of the project but each other.',
      severity: 'error',
      from: { path: `^shared/${PLATFORM_BASE}` },
      to: { path: `^(shared/|${ABOVE_SHARED})`, pathNot: `^shared/${PLATFORM_BASE}` },
    },
    {
      name: 'platform-knows-no-feature',
      comment: 'shared/platform (trigger schemas, handler wrapper, router, lazy port, credentials) serves every feature and knows none.',
      severity: 'error',
      from: { path: '^shared/platform/' },
      to: { path: `^(shared/(?!platform/)|${ABOVE_SHARED})` },
    },
    {
      name: 'model-is-records',
      comment: 'shared/delivery/model holds pure records and schemas: it imports only itself and the platform base.',
      severity: 'error',
      from: { path: '^shared/delivery/model/' },
      to: { path: `^(shared/(?!delivery/model/|${PLATFORM_BASE})|${ABOVE_SHARED})` },
    },
    {
      name: 'pure-core-stays-pure',
      comment:
        'render, workflow, the traffic domain and tenancy do no I/O: they import the records, the platform base and each ' +
        'other, never ports, use cases, adapters, the bundle loader, the rest of the platform or anything above. ' +
        '(The traffic planner used to read GTM records and ownership naming from the GTM port: they live in ' +
        'shared/traffic/domain/gtm.ts now, issue 14 item 3.)',
      severity: 'error',
      from: { path: '^shared/(delivery/(render|workflow)|traffic/domain|tenancy)/' },
      to: {
        path:
          '^(shared/(delivery/(ports|usecases|adapters|approval|bundle)/|traffic/(ports|usecases|adapters)/|' +
          `platform/(?!(errors|clock|log|page)\\.ts$))|${ABOVE_SHARED})`,
      },
    },
    {
      name: 'pure-core-no-io',
      comment: "No I/O in the core and the records: no file system, sockets, HTTP or processes (node:net's isIP excepted, below).",
      severity: 'error',
      from: { path: PURE, pathNot: '^shared/traffic/domain/desired\\.ts$' },
      to: { dependencyTypes: ['core'], path: IO_BUILTINS },
    },
    {
      name: 'planner-uses-only-isIP',
      comment:
        'Exception: shared/traffic/domain/desired.ts (the address resolution both GTM planners share) imports node:net for isIP, ' +
        'a pure function; no other I/O module.',
      severity: 'error',
      from: { path: '^shared/traffic/domain/desired\\.ts$' },
      to: { dependencyTypes: ['core'], path: IO_BUILTINS, pathNot: '^net$' },
    },
    {
      name: 'no-sdk-below-adapters',
      comment: 'Cloud SDKs, native stores and CLI tooling are for adapters and the layers above them.',
      severity: 'error',
      from: {
        path: '^shared/(platform|tenancy|delivery/(model|render|workflow|bundle|ports|usecases|approval)|traffic/(domain|ports|usecases))/',
      },
      to: { path: SDKS },
    },
    {
      name: 'pure-core-packages',
      comment: 'The pure core and the records use zod, yaml and fast-json-patch; any other package is a new decision.',
      severity: 'error',
      from: { path: PURE },
      to: {
        dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'],
        pathNot: '^node_modules/(zod|yaml|fast-json-patch)/',
      },
    },
    {
      name: 'bundle-loader-below-use-cases',
      comment: 'shared/delivery/bundle reads archives safely; it knows the records and the platform base, nothing that uses it.',
      severity: 'error',
      from: { path: '^shared/delivery/bundle/' },
      to: { path: `^(shared/(?!${PLATFORM_BASE}|delivery/(model|bundle)/)|${ABOVE_SHARED})` },
    },
    {
      name: 'ports-are-interfaces',
      comment:
        'A port names the records it speaks (the platform base, delivery/model, the workflow records, the traffic domain ' +
        'records) and other ports; never an implementation, a use case or the pure core that computes on them.',
      severity: 'error',
      from: { path: '^shared/(delivery|traffic)/ports/' },
      to: {
        path:
          '^(shared/(delivery/(usecases|adapters|approval|bundle|render)|traffic/(usecases|adapters)|tenancy|' +
          `platform/(?!(errors|clock|log|page)\\.ts$))/?|${ABOVE_SHARED})`,
      },
    },
    {
      name: 'use-cases-never-adapters',
      comment:
        'Use cases import records, the pure core, ports, the bundle loader, the platform base and the trigger event ' +
        'shapes they send (shared/platform/triggers); never adapters, the approval services, the handler wrapper or ' +
        'anything above.',
      severity: 'error',
      from: { path: '^shared/(delivery|traffic)/usecases/' },
      to: {
        path:
          '^(shared/(delivery|traffic)/adapters/|shared/delivery/approval/|' +
          `shared/platform/(?!triggers/|(errors|clock|log|page)\\.ts$)|${ABOVE_SHARED})`,
      },
    },
    {
      name: 'approval-services-never-adapters',
      comment: 'shared/delivery/approval (auth, decisions, idempotency, uploads) sits on the use cases; it never picks an adapter.',
      severity: 'error',
      from: { path: '^shared/delivery/approval/' },
      to: { path: `^(shared/(delivery|traffic)/adapters/|shared/platform/(?!(errors|clock|log|page)\\.ts$)|${ABOVE_SHARED})` },
    },
    {
      name: 'adapters-implement-ports',
      comment:
        'Adapters import the platform, records, ports, the run records (delivery/workflow) and the traffic domain records; ' +
        'never use cases, the approval services, render, the bundle loader, tenancy, the traffic planner or anything above.',
      severity: 'error',
      from: { path: '^shared/(delivery|traffic)/adapters/' },
      to: {
        path:
          '^(shared/(delivery/(usecases|approval|render|bundle)|traffic/(usecases|domain/(planner|planner3|desired|resolve)\\.ts$)|tenancy)/?|' +
          `${ABOVE_SHARED})`,
      },
    },
    {
      name: 'adapter-families-apart',
      comment:
        'One adapter family (aliyun, kube, local, the bucket-backed release objects) does not reach into another, in any ' + 'feature.',
      severity: 'error',
      from: {
        path: '^shared/[^/]+/adapters/([^/]+)/',
        pathNot: '^shared/delivery/adapters/kube/connections\\.ts$',
      },
      to: { path: '^shared/[^/]+/adapters/[^/]+/', pathNot: '^shared/[^/]+/adapters/$1/' },
    },
    {
      name: 'kube-connections-reads-ack-type',
      comment:
        'Exception: shared/delivery/adapters/kube/connections.ts takes an ACK kubeconfig source, whose type lives with ' +
        'the aliyun adapter (shared/delivery/adapters/aliyun/ack-kubeconfig.ts); the type only, and no other aliyun file.',
      severity: 'error',
      from: { path: '^shared/delivery/adapters/kube/connections\\.ts$' },
      to: {
        path: '^shared/[^/]+/adapters/(?!kube/)',
        pathNot: '^shared/delivery/adapters/aliyun/ack-kubeconfig\\.ts$',
      },
    },
    {
      name: 'kube-connections-ack-type-only',
      comment: 'The exception above is a type import: the kube adapter never loads the Alibaba Cloud SDK path itself.',
      severity: 'error',
      from: { path: '^shared/delivery/adapters/kube/connections\\.ts$' },
      to: { path: '^shared/[^/]+/adapters/aliyun/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'traffic-reads-delivery-records-and-ports',
      comment:
        'Between features. Traffic reads what delivery publishes to it: its records (shared/delivery/model: AppRef, ' +
        'the cluster registry, TrafficPolicy, the run-store records) and its ports (RunStore, ClusterGateway); never ' +
        "delivery's bundle loader, render, workflow, use cases, approval services or adapters.",
      severity: 'error',
      from: { path: '^shared/traffic/' },
      to: { path: '^shared/delivery/(?!(model|ports)/)' },
    },
    {
      name: 'tenancy-reads-delivery-records',
      comment:
        "Tenancy (admission) judges rendered releases: it reads delivery's records and the source locations render " +
        'keeps (shared/delivery/render/sources.ts), nothing of traffic or of the rest of delivery.',
      severity: 'error',
      from: { path: '^shared/tenancy/' },
      to: { path: '^shared/(traffic/|delivery/(?!model/|render/sources\\.ts$))' },
    },
    {
      name: 'delivery-reaches-traffic-through-records-ports-use-cases',
      comment:
        "Delivery reaches traffic's records (claims, history, GTM records) and ports, never its planner: what traffic " +
        'computes stays in traffic.',
      severity: 'error',
      from: { path: '^shared/delivery/' },
      to: { path: '^shared/traffic/domain/(planner|planner3|desired|resolve)\\.ts$' },
    },
    {
      name: 'only-delivery-use-cases-call-other-features',
      comment:
        "Another feature's use cases (traffic's claims at ingest) and tenancy's admission are called by delivery's use " +
        'cases only; its adapters are reached by delivery adapters of the same family only (adapter-families-apart).',
      severity: 'error',
      from: { path: '^shared/delivery/(?!usecases/)' },
      to: { path: '^shared/(traffic/usecases|tenancy)/' },
    },
    {
      name: 'other-features-adapters-only-from-adapters',
      comment: "Only an adapter uses another feature's adapter (the SQLite run store hosts traffic's SQLite history table).",
      severity: 'error',
      from: { path: '^shared/(delivery|tenancy)/(?!adapters/)' },
      to: { path: '^shared/traffic/adapters/' },
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
      comment:
        'The simulated clusters and the GTM emulator know only the platform base and the delivery records ' +
        '(shared/delivery/model): they fake the cloud, not tricenter.',
      severity: 'error',
      from: { path: '^sandbox/' },
      to: { path: `^(shared/(?!${PLATFORM_BASE}|delivery/model/)|functions/|local/|cli/|scripts/|bench/|test/|bin/)` },
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
    // node_modules may be a symlink (a git worktree sharing the main checkout's): rules name it as node_modules/.
    preserveSymlinks: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
