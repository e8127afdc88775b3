// Host key fingerprints and pins, checked against what ssh-keygen -lf prints.
import { describe, expect, it } from "vitest";
import { HostKeyPinError, hostKeyFingerprint, hostKeyMatches, parseHostKeyPin } from "../../src/adapters/host-key.js";

// Public keys and the fingerprints `ssh-keygen -lf` printed for them.
const KEYS = [
  {
    type: "ed25519",
    blob: "AAAAC3NzaC1lZDI1NTE5AAAAICQ99cozIRWl90FrH6+IziXNee1If724onNhxSncRdSd",
    printed: "SHA256:Xmdyhva0tr2v0pU6rCW2zbamu+9ElUoa9exPzjOPrTQ",
  },
  {
    type: "rsa",
    blob:
      "AAAAB3NzaC1yc2EAAAADAQABAAABAQC98O/43k0i9EhdE9Pq/WfuP9UvXniqD1z7iKmslNm4MRa25kTyrIE1w0muP/W/uc1Qf+9+y8tbmzFMBQRo" +
      "iSipxiglp9UKzQFyQDdJ+HZtmaYt5X8TIEESK2KoLmF0qE93uSeubgxyqXCcRiLRV+VdIrX/NPWF9ojr3PdMx9nMTuPEk+1mU8TVUM0Nt7of3oAW" +
      "UcGjmwC+OnHWqiH2kDTf0ilheAligpFWNmvEP4Bo3vnIzi4G3x0GnxvLh7El1/8KIpZY4zvE+OH6QKAAsJilkYsyu44N0nnHOqwJUT4FIAThQqYvbK" +
      "PwDTcDdLxeYOUA7E8sEWdu0eyrjFChEal3",
    printed: "SHA256:8Q2JAOCGxfmajpz8Z7UvE6H7BjRE3n7Dmio3ndgqVZI",
  },
];

describe("host key fingerprints", () => {
  it.each(KEYS)("a $type key's fingerprint is what ssh-keygen -lf prints", ({ blob, printed }) => {
    expect(hostKeyFingerprint(Buffer.from(blob, "base64"))).toBe(printed);
  });

  it.each(KEYS)("the pinned $type key matches, the other key does not", ({ blob, printed }) => {
    const other = KEYS.find((key) => key.printed !== printed)!;
    expect(hostKeyMatches(Buffer.from(blob, "base64"), printed)).toBe(true);
    expect(hostKeyMatches(Buffer.from(other.blob, "base64"), printed)).toBe(false);
  });

  it("a key that differs in one byte is refused", () => {
    const blob = Buffer.from(KEYS[0]!.blob, "base64");
    blob[blob.length - 1]! ^= 1;
    expect(hostKeyMatches(blob, KEYS[0]!.printed)).toBe(false);
  });
});

describe("host key pins", () => {
  const accepted = [
    {
      pin: "SHA256:Xmdyhva0tr2v0pU6rCW2zbamu+9ElUoa9exPzjOPrTQ",
      expected: "SHA256:Xmdyhva0tr2v0pU6rCW2zbamu+9ElUoa9exPzjOPrTQ",
    },
    {
      pin: " SHA256:Xmdyhva0tr2v0pU6rCW2zbamu+9ElUoa9exPzjOPrTQ= ",
      expected: "SHA256:Xmdyhva0tr2v0pU6rCW2zbamu+9ElUoa9exPzjOPrTQ",
    },
  ];
  it.each(accepted)("$pin is read as $expected", ({ pin, expected }) => {
    expect(parseHostKeyPin(pin)).toBe(expected);
  });

  const refused = [
    { pin: "SHA256:...", reason: /43 base64 characters/ },
    { pin: "MD5:2b:4c:aa:00", reason: /expected "SHA256:<base64>"/ },
    { pin: "Xmdyhva0tr2v0pU6rCW2zbamu+9ElUoa9exPzjOPrTQ", reason: /expected "SHA256:<base64>"/ },
    { pin: "sha256:Xmdyhva0tr2v0pU6rCW2zbamu+9ElUoa9exPzjOPrTQ", reason: /expected "SHA256:<base64>"/ },
    { pin: "SHA256:Xmdyhva0tr2v0pU6rCW2zbamu+9ElUoa9exPzjOPrT", reason: /43 base64 characters/ },
    { pin: "", reason: /expected "SHA256:<base64>"/ },
  ];
  it.each(refused)("$pin is refused", ({ pin, reason }) => {
    expect(() => parseHostKeyPin(pin)).toThrow(HostKeyPinError);
    expect(() => parseHostKeyPin(pin)).toThrow(reason);
  });
});
