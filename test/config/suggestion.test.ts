import { describe, expect, it } from "vitest";
import { editDistance, suggestion } from "../../src/config/suggestion.js";

describe("did-you-mean hints", () => {
  it.each([
    ["width", "width", 0],
    ["widht", "width", 1],
    ["fomat", "format", 1],
    ["dorp", "drop", 1],
    ["htpp", "http", 1],
    ["kitten", "sitting", 3],
    ["", "abc", 3],
  ])("%s → %s takes %d edits", (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
  });

  it.each([
    ["widht", ["from", "width", "align"], '; did you mean "width"?'],
    ["hostkey", ["host", "hostKey"], '; did you mean "hostKey"?'],
    ["replicaton", ["database", "replication"], '; did you mean "replication"?'],
    ["zzz", ["from", "width"], ""],
    ["retry", [], ""],
  ])("%s among %j hints %j", (word, allowed, hint) => {
    expect(suggestion(word, allowed)).toBe(hint);
  });
});
