// The layering of src/, as rules: a wrong import fails `npm run lint` with the rule's name and reason.
// Paths are matched on their `src/<folder>/` part, so the same rules apply to test fixtures.
const folder = (name) => `(^|/)src/${name}/`;
const anyOf = (...names) => `(^|/)src/(${names.join("|")})/`;
const DATABASE_PACKAGES = "^(pg|pg-logical-replication|pg-copy-streams|kysely)$|node_modules/(pg|pg-logical-replication|pg-copy-streams|kysely)/";
const PARTNER_PACKAGES = "node_modules/(ssh2|ssh2-sftp-client|soap)/";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-cycles",
      comment: "Modules import each other one way; a cycle means two files share one concept or a type sits in the wrong one.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "change-vocabulary-imports-nothing",
      comment: "src/change is the bottom layer (changes, values, LSNs, table references): every folder may import it, it imports nothing of ours.",
      severity: "error",
      from: { path: folder("change") },
      to: { path: "(^|/)src/", pathNot: folder("change") },
    },
    {
      name: "sql-helpers-import-nothing",
      comment: "src/sql (quoting, PostgreSQL error classes) is reachable from every folder, so it imports nothing of ours but the change vocabulary.",
      severity: "error",
      from: { path: folder("sql") },
      to: { path: "(^|/)src/", pathNot: anyOf("sql", "change") },
    },
    {
      name: "mapping-is-pure",
      comment: "The mapping engine turns values into records: it knows no database, replication, ledger, delivery or partner code.",
      severity: "error",
      from: { path: folder("mapping") },
      to: {
        path: [
          anyOf("source", "capture", "ledger", "delivery", "adapters", "inspection", "ops", "gateway", "cli", "demo"),
          DATABASE_PACKAGES,
          PARTNER_PACKAGES,
        ],
      },
    },
    {
      name: "config-knows-no-runtime",
      comment: "Configuration is read and checked before anything runs: it imports no replication, ledger, delivery, adapter or operations code.",
      severity: "error",
      from: { path: folder("config") },
      to: { path: anyOf("source", "capture", "ledger", "delivery", "adapters", "inspection", "ops", "gateway", "cli", "demo") },
    },
    {
      name: "source-decodes-only",
      comment: "src/source decodes the replication stream into typed changes; storing, mapping and checking them are other rooms.",
      severity: "error",
      from: { path: folder("source") },
      to: { path: anyOf("mapping", "capture", "ledger", "delivery", "adapters", "inspection", "gateway", "cli", "demo") },
    },
    {
      name: "adapters-know-no-ledger",
      comment: "An adapter sends one batch to one partner; the ledger, scheduling and retries belong to delivery.",
      severity: "error",
      from: { path: folder("adapters") },
      to: { path: anyOf("ledger", "delivery", "capture", "inspection", "gateway", "cli", "demo") },
    },
    {
      name: "ledger-knows-no-delivery",
      comment: "The ledger stores and answers; the workers that act on it and the command line sit above it.",
      severity: "error",
      from: { path: folder("ledger") },
      to: { path: anyOf("delivery", "adapters", "capture", "inspection", "ops", "gateway", "cli", "demo") },
    },
    {
      name: "inspection-is-not-below",
      comment: "The database inspection behind essctl check and publication sql sits above config, mapping and ledger; nothing below it imports it.",
      severity: "error",
      from: { path: anyOf("change", "sql", "config", "source", "capture", "ledger", "mapping", "delivery", "adapters") },
      to: { path: folder("inspection") },
    },
    {
      name: "ledger-owns-its-queries",
      comment: "Every query of the ess schema is written in src/ledger with its typed kysely schema; other folders call the ledger's functions.",
      severity: "error",
      from: { path: "(^|/)src/", pathNot: folder("ledger") },
      to: { path: "^kysely$|node_modules/kysely/" },
    },
    {
      name: "only-entry-points-run-the-engine",
      comment: "src/engine/ holds the wiring src/engine.ts composes; only essctl (cli) and the demo run an engine, so no module below them depends on one.",
      severity: "error",
      from: { path: "(^|/)src/", pathNot: ["(^|/)src/engine\\.ts$", folder("engine"), anyOf("cli", "demo")] },
      to: { path: ["(^|/)src/engine\\.ts$", folder("engine")] },
    },
    {
      name: "nothing-imports-the-cli",
      comment: "essctl commands are thin wrappers over the modules; no module may depend on one.",
      severity: "error",
      from: { path: "(^|/)src/", pathNot: folder("cli") },
      to: { path: folder("cli") },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"] },
  },
};
