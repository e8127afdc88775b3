import { describe, expect, it } from "vitest";
import { checkDropTemplate } from "../../src/config/drop-template.js";

describe("drop file name templates", () => {
  it.each([
    ["permit_{date:%Y%m%d}_{batch}.txt", "file"],
    ["{connector}-{batch}.dat", "file"],
    ["TREAS.PERMITS.D{date:%y%m%d}.B{batch}", "file"],
    ["{file}.done", "doneFile"],
    ["{file}.{date:%H%M%S}.ok", "doneFile"],
  ] as const)("%s is a valid %s template", (template, kind) => {
    expect(checkDropTemplate(template, kind)).toBeUndefined();
  });

  it.each([
    ["permit_{bacth}.txt", "file", "unknown placeholder {bacth}"],
    ["{file}.done", "file", "unknown placeholder {file}"],
    ["permit_{date:%Q}.txt", "file", "%Q"],
    ["permit_{date:}.txt", "file", "needs a strftime pattern"],
    ["out/{batch}.txt", "file", "not a path"],
    ["permit_{batch.txt", "file", "unbalanced"],
  ] as const)("%s is refused as a %s template: %s", (template, kind, reason) => {
    expect(checkDropTemplate(template, kind)).toContain(reason);
  });
});
