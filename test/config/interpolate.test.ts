// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} and ${file:} are configuration syntax here, not template literals
import { describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { interpolate, protectReferences, restoreReferences } from "../../src/config/interpolate.js";

const files: Record<string, string> = {
  "/run/secrets/key": "-----BEGIN KEY-----\nabc\n-----END KEY-----\n",
  "/etc/ess/token": "tok-123\r\n",
};
const sources = {
  env: { HOST: "sftp.city.gov", EMPTY: "", PORT: "2222" },
  readFile: (path: string) => {
    const text = files[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
    return text;
  },
  resolvePath: (path: string) => (path.startsWith("/") ? path : `/etc/ess/${path}`),
};

describe("${…} references in configuration strings", () => {
  it.each([
    ["plain text", "plain text"],
    ["${HOST}", "sftp.city.gov"],
    ["sftp://${HOST}:${PORT}/in", "sftp://sftp.city.gov:2222/in"],
    ["${MISSING:-fallback}", "fallback"],
    ["${EMPTY:-fallback}", "fallback"],
    ["${HOST:-fallback}", "sftp.city.gov"],
    ["${MISSING:-}", ""],
    ["${MISSING:-a b:c}", "a b:c"],
    ["${EMPTY}", ""],
    ["${file:/run/secrets/key}", "-----BEGIN KEY-----\nabc\n-----END KEY-----"],
    ["${file:token}", "tok-123"],
    ["cost $${HOST}", "cost ${HOST}"],
    ["$5 and ${PORT}", "$5 and 2222"],
  ])("%j becomes %j", (raw, value) => {
    const result = interpolate(raw, sources);
    expect(result).toMatchObject({ ok: true, value });
  });

  it("says which parts came from a file and which from a default", () => {
    const result = interpolate("${file:token}/${MISSING:-x}/${HOST}", sources);
    expect(result.ok && result.resolved.map((r) => [r.kind, r.reference, r.defaulted])).toEqual([
      ["file", "${file:token}", false],
      ["env", "${MISSING:-x}", true],
      ["env", "${HOST}", false],
    ]);
  });

  it.each([
    ["${MISSING}", "environment variable MISSING is not set"],
    ["a ${HOST", "unterminated reference"],
    ["${1BAD}", "is not a valid reference"],
    ["${file:}", "names no file"],
    ["${file:/nope}", "cannot read ${file:/nope} (/nope): ENOENT"],
  ])("%j is an error: %s", (raw, reason) => {
    const result = interpolate(raw, sources);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reason);
  });
});

describe("references inside YAML flow mappings", () => {
  const text = "security: { username: ${COUNTY_USER}, password: ${COUNTY_PASS} }\nport: ${P:-22}\n";

  it("are not valid YAML as written, which is why they are protected before parsing", () => {
    expect(parseDocument(text).errors.length).toBeGreaterThan(0);
  });

  it("parse once protected, keep their columns, and come back intact", () => {
    const protectedText = protectReferences(text);
    expect(protectedText.text.length).toBe(text.length);
    expect(protectedText.text.indexOf("password")).toBe(text.indexOf("password"));
    const doc = parseDocument(protectedText.text);
    expect(doc.errors).toEqual([]);
    const value = doc.toJS() as { security: { username: string; password: string }; port: string };
    expect(restoreReferences(value.security.username, protectedText.references)).toBe("${COUNTY_USER}");
    expect(restoreReferences(value.security.password, protectedText.references)).toBe("${COUNTY_PASS}");
    expect(restoreReferences(value.port, protectedText.references)).toBe("${P:-22}");
  });
});
