// docker-compose.yml, read as Docker Compose reads it (no Docker here): every service's environment
// against the shipped ess.yaml, connectors/ and mappings/, the stand-in partners it runs, and the
// database role its init script creates, exercised on a real PostgreSQL with essctl.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfig } from "../../src/config/index.js";
import type { EssConfig } from "../../src/config/types.js";
import { HOST_KEY_FINGERPRINT_FILE } from "../../src/demo/stand-in-partners.js";
import { adminUrl, createTestDatabase, type TestDatabase } from "../support/database.js";
import { ESSCTL_NODE_ARGS, essctl } from "../support/essctl.js";
import { interpolateDeep } from "./compose-interpolation.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
}

const raw = readFileSync(join(ROOT, "docker-compose.yml"), "utf8");
/** What `docker compose config` shows with no .env and nothing exported. */
const compose = interpolateDeep(parse(raw, { merge: true }), {}) as ComposeFile;
const services = compose.services;
const serviceNames = new Set(Object.keys(services));

function service(name: string): Service {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

function optionOf(args: readonly string[], option: string): string {
  const i = args.indexOf(option);
  if (i < 0 || args[i + 1] === undefined) throw new Error(`the partners command has no ${option}`);
  return args[i + 1] as string;
}

/** Where a named volume is mounted in a service (container path). */
function mountOf(svc: Service, volume: string): { path: string; readOnly: boolean } | undefined {
  for (const entry of svc.volumes ?? []) {
    const [source, target, mode] = entry.split(":");
    if (source === volume && target) return { path: target, readOnly: mode === "ro" };
  }
  return undefined;
}

/** ${NAME} without a default, in the shipped configuration files: the ess service must set each. */
function requiredVariables(): Set<string> {
  const files = [
    "ess.yaml",
    ...readdirSync(join(ROOT, "connectors"))
      .filter((n) => n.endsWith(".yaml"))
      .map((n) => `connectors/${n}`),
  ];
  const names = new Set<string>();
  for (const file of files) {
    for (const m of readFileSync(join(ROOT, file), "utf8").matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
      names.add(m[1] as string);
    }
  }
  return names;
}

describe("docker-compose.yml against the shipped configuration", () => {
  const ess = service("ess");
  const partners = service("partners");
  const init = service("hms-init");
  const essEnv = ess.environment ?? {};
  const partnerArgs = partners.command ?? [];
  const stateDir = optionOf(partnerArgs, "--state-dir");
  let config: EssConfig;

  beforeAll(async () => {
    // The ess command pins the fingerprint the stand-in wrote on the shared volume.
    const fingerprint = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    config = await loadConfig(join(ROOT, "ess.yaml"), {
      env: { ...essEnv, CITY_SFTP_HOST_KEY: essEnv.CITY_SFTP_HOST_KEY || fingerprint },
    });
  });

  it("sets every variable the shipped files read without a default", () => {
    for (const name of requiredVariables()) expect(Object.keys(essEnv), name).toContain(name);
  });

  it("points ESS at compose services only: the database, and the stand-in partner of every connector", () => {
    const database = new URL(config.database.url);
    expect(database.hostname).toBe("postgres");
    expect(config.ledger.url).toBeUndefined();
    const address = (host: string, port: number | string) => ({ host, port: Number(port) });
    for (const connector of config.connectors) {
      switch (connector.adapter) {
        case "sftp":
          expect(address(connector.sftp.host, connector.sftp.port), connector.name).toEqual(
            address("partners", optionOf(partnerArgs, "--sftp-port")),
          );
          break;
        case "soap": {
          const url = new URL(connector.soap.endpoint ?? "");
          expect(address(url.hostname, url.port), connector.name).toEqual(
            address("partners", optionOf(partnerArgs, "--soap-port")),
          );
          break;
        }
        case "rest": {
          for (const text of [connector.rest.url, connector.rest.health ?? ""]) {
            const url = new URL(text);
            expect(address(url.hostname, url.port), connector.name).toEqual(
              address("partners", optionOf(partnerArgs, "--rest-port")),
            );
          }
          break;
        }
        case "file": {
          const drops = mountOf(ess, "ess-drops");
          expect(drops, "the ess-drops volume").toBeDefined();
          expect(connector.file.dir.startsWith(`${drops?.path}/`), connector.name).toBe(true);
          break;
        }
      }
    }
  });

  it("names no host outside the stack: every URL in the compose file and the loaded configuration is a service", () => {
    const urls = [
      ...JSON.stringify(compose).matchAll(/[a-z][a-z0-9+.-]*:\/\/(?:[^@/\s"]*@)?([^:/\s"]+)/gi),
      ...JSON.stringify(config.connectors).matchAll(/[a-z][a-z0-9+.-]*:\/\/(?:[^@/\s"]*@)?([^:/\s"]+)/gi),
    ];
    expect(urls.length).toBeGreaterThan(4);
    for (const url of urls) expect([...serviceNames, "127.0.0.1"], url[0]).toContain(url[1]);
    expect(raw).not.toMatch(/vdot\.gov/);
  });

  it("gives partners and ESS the same credentials, and ESS the role and password the init script creates", () => {
    const partnerEnv = partners.environment ?? {};
    for (const name of ["CITY_SFTP_USER", "CITY_SFTP_PASSWORD", "COUNTY_USER", "COUNTY_PASS", "GIS_KEY"]) {
      expect(partnerEnv[name], name).toBeDefined();
      expect(essEnv[name], name).toBe(partnerEnv[name]);
    }
    // The password is never in the URL (no escaping to get wrong): PGPASSWORD carries it.
    const database = new URL(essEnv.DATABASE_URL ?? "");
    expect(database.password).toBe("");
    expect(database.username).toBe(init.environment?.ESS_DB_USER);
    expect(essEnv.PGPASSWORD).toBe(init.environment?.ESS_DB_PASSWORD);
    expect(essEnv.PGPASSWORD).not.toBe("");
    // The init script runs as the superuser the postgres service creates.
    expect(init.environment?.PGUSER).toBe(service("postgres").environment?.POSTGRES_USER);
    expect(init.environment?.PGPASSWORD).toBe(service("postgres").environment?.POSTGRES_PASSWORD);
    expect(init.environment?.PGHOST).toBe("postgres");
  });

  it("keeps the SFTP host key on a volume the partners write and ESS reads, and pins it", () => {
    const written = mountOf(partners, "partners-state");
    const read = mountOf(ess, "partners-state");
    expect(written).toEqual({ path: stateDir, readOnly: false });
    expect(read).toEqual({ path: stateDir, readOnly: true });
    const command = (ess.command ?? []).join(" ");
    expect(command).toContain(`cat ${stateDir}/${HOST_KEY_FINGERPRINT_FILE}`);
    // An empty CITY_SFTP_HOST_KEY falls to the volume, never to the connector's placeholder.
    expect(command).toContain("CITY_SFTP_HOST_KEY:-$(cat");
    expect(command).toMatch(/export CITY_SFTP_HOST_KEY/);
  });

  it("is wired together: dependencies, volumes, mounted files and published ports exist", () => {
    for (const [name, svc] of Object.entries(services)) {
      for (const dependency of Object.keys(svc.depends_on ?? {})) expect(serviceNames, name).toContain(dependency);
      for (const entry of svc.volumes ?? []) {
        const source = entry.split(":")[0] as string;
        if (source.startsWith(".")) expect(existsSync(join(ROOT, source)), `${name}: ${source}`).toBe(true);
        else expect(Object.keys(compose.volumes), `${name}: ${source}`).toContain(source);
      }
    }
    expect(ess.depends_on?.["hms-init"]?.condition).toBe("service_completed_successfully");
    expect(ess.depends_on?.partners?.condition).toBe("service_healthy");
    expect(essEnv.ESS_HTTP_LISTEN).toBe("0.0.0.0:9464");
    expect(ess.ports).toContain("127.0.0.1:9464:9464");
    expect(config.http.port).toBe(9464);
    // One image for both: the partners run from what ESS is built from.
    expect(partners.image).toBe(ess.image);
    expect(partners.build).toEqual(ess.build);
  });
});

function psql(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    execFile("psql", [...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === "ENOENT") {
        reject(
          new Error("psql is not installed: apt-get install postgresql-client (CI installs it with PostgreSQL 15)"),
        );
        return;
      }
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

describe("the compose stack's database role, on a real PostgreSQL", () => {
  let db: TestDatabase;
  const role = `ess_compose_${randomBytes(4).toString("hex")}`;
  // Characters that break a URL when pasted into one: PGPASSWORD carries them as they are.
  const password = `p@ss:w/rd%#?&${randomBytes(4).toString("hex")}`;
  const composeEnv = interpolateDeep(service("ess").environment ?? {}, {}) as Record<string, string>;
  let drops: string;

  beforeAll(async () => {
    db = await createTestDatabase("compose-role");
    drops = await mkdtemp(join(tmpdir(), "ess-compose-drops-"));
  });
  afterAll(async () => {
    await db?.drop();
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    await admin.query(`drop role if exists ${role}`).finally(() => admin.end());
    await rm(drops, { recursive: true, force: true });
  });

  it("hms-init.sql creates the role with exactly what essctl check asks for, twice without harm", async () => {
    const admin = new URL(adminUrl());
    const initEnv = interpolateDeep(service("hms-init").environment ?? {}, {}) as Record<string, string>;
    const env = {
      PGHOST: admin.hostname,
      PGPORT: admin.port,
      PGUSER: decodeURIComponent(admin.username),
      PGPASSWORD: decodeURIComponent(admin.password),
      PGDATABASE: db.name,
      ESS_DB_USER: role,
      ESS_DB_PASSWORD: password,
    };
    expect(Object.keys(initEnv).sort()).toEqual(
      Object.keys(env)
        .filter((k) => k !== "PGPORT")
        .sort(),
    );
    const script = join(ROOT, "docs/compose/hms-init.sql");
    const args = (service("hms-init").entrypoint ?? []).slice(1).map((a) => (a === "/hms-init.sql" ? script : a));
    const first = await psql(args, env);
    expect(first.output).not.toMatch(/ERROR/);
    expect(first.code).toBe(0);
    expect((await psql(args, env)).code).toBe(0);
    // Without the password it refuses to run, saying which variable is missing.
    const missing = await psql(args, { ...env, ESS_DB_PASSWORD: undefined });
    expect(missing.code).not.toBe(0);
    expect(missing.output).toContain("ESS_DB_PASSWORD is not set");

    const attributes = await db.query<{
      rolsuper: boolean;
      rolcreatedb: boolean;
      rolreplication: boolean;
      db_create: boolean;
    }>(
      `select rolsuper, rolcreatedb, rolreplication, has_database_privilege(rolname, current_database(), 'CREATE') as db_create
         from pg_roles where rolname = $1`,
      [role],
    );
    expect(attributes.rows[0]).toEqual({ rolsuper: false, rolcreatedb: false, rolreplication: true, db_create: false });

    const url = `postgres://${role}@${admin.hostname}:${admin.port}/${db.name}`;
    const essEnv = {
      ...composeEnv,
      DATABASE_URL: url,
      PGPASSWORD: password,
      ESS_DROP_DIR: drops,
      CITY_SFTP_HOST_KEY: "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    };
    const config = ["--config", join(ROOT, "ess.yaml")];
    // Before the ledger exists, check names only the migration, no missing privilege.
    const before = await essctl(["check", "--json", ...config], essEnv);
    const report = JSON.parse(before.stdout) as { problems: { message: string }[] };
    expect(report.problems.map((p) => p.message).join("\n")).toMatch(/not migrated/);
    expect(report.problems, JSON.stringify(report.problems, null, 1)).toHaveLength(1);
    const migrated = await essctl(["migrate", ...config], essEnv);
    expect(migrated.stderr, migrated.stderr).toBe("");
    expect(migrated.code).toBe(0);
    const after = await essctl(["check", ...config], essEnv);
    expect(after.stderr, after.stderr).toBe("");
    expect(after.code).toBe(0);
    // Wrong password: refused, so the one above was really used.
    const wrong = await essctl(["check", ...config], { ...essEnv, PGPASSWORD: "not-it" });
    expect(wrong.code).toBe(1);
    // Five essctl runs, each compiling TypeScript at start: minutes on a loaded machine.
  }, 240_000);
});

describe("the compose stack's partners service", () => {
  let child: ChildProcess | undefined;
  let state: string;

  beforeAll(async () => {
    state = await mkdtemp(join(tmpdir(), "ess-compose-partners-"));
  });
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    await rm(state, { recursive: true, force: true });
  });

  async function runPartners(): Promise<{ output: () => string; stop: () => Promise<number | null> }> {
    // The compose command, on loopback and free ports, with the compose environment.
    const args = [...(service("partners").command ?? [])].slice(2);
    const set = (option: string, value: string) => {
      args[args.indexOf(option) + 1] = value;
    };
    set("--listen", "127.0.0.1");
    for (const option of ["--sftp-port", "--soap-port", "--rest-port"]) set(option, "0");
    set("--state-dir", state);
    const env = interpolateDeep(service("partners").environment ?? {}, {}) as Record<string, string>;
    let text = "";
    const started = spawn(process.execPath, [...ESSCTL_NODE_ARGS, ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = started;
    started.stdout.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
    });
    started.stderr.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
    });
    const exited = new Promise<number | null>((resolve) => started.once("exit", (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while (!text.includes("Stop with SIGTERM") && Date.now() < deadline && started.exitCode === null) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(text).toContain("Stop with SIGTERM");
    return {
      output: () => text,
      stop: async () => {
        started.kill("SIGTERM");
        return await exited;
      },
    };
  }

  it("runs from the compose command, writes the fingerprint ESS pins, and keeps the same host key after a restart", async () => {
    const first = await runPartners();
    const fingerprint = (await readFile(join(state, HOST_KEY_FINGERPRINT_FILE), "utf8")).trim();
    expect(fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(first.output()).toContain(`host key ${fingerprint}`);
    expect(await first.stop()).toBe(0);
    const second = await runPartners();
    expect(second.output()).toContain(`host key ${fingerprint}`);
    expect(await second.stop()).toBe(0);
  }, 180_000);
});
