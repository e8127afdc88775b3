// The demo's SFTP partner makes its own host key; ssh2 cannot read back about one ed25519 pair in
// 256 that it generates, and the partner then failed to start.
import ssh2 from "ssh2";
import { describe, expect, it } from "vitest";
import { generateHostKey } from "../../src/demo/sftp-partner.js";

describe("the SFTP partner's host keys", () => {
  it("are always keys ssh2 reads back (2,000 in a row)", () => {
    const unreadable: string[] = [];
    for (let i = 0; i < 2_000; i++) {
      const parsed = ssh2.utils.parseKey(generateHostKey());
      if (parsed instanceof Error) unreadable.push(parsed.message);
    }
    expect(unreadable).toEqual([]);
  });
});
