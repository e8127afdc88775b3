import { describe, expect, it } from "vitest";
import { isSecretPath } from "../../src/config/secret-positions.js";
import { redactSecrets, redactUrl, registerSecret, urlPassword } from "../../src/config/secrets.js";

describe("secret redaction", () => {
  registerSecret("s3cr3t-pass");
  registerSecret("county");
  registerSecret("p@ss:w/rd");
  registerSecret("ab");

  it.each([
    ["login failed for s3cr3t-pass", "login failed for ***"],
    ["postgres://ess:s3cr3t-pass@db/hms", "postgres://ess:***@db/hms"],
    ['{"password":"s3cr3t-pass"}', '{"password":"***"}'],
    ["user county refused", "user *** refused"],
    ["connector county_scheduler is up", "connector county_scheduler is up"],
    ["the countywide feed", "the countywide feed"],
    ["key p@ss:w/rd used", "key *** used"],
    ["encoded p%40ss%3Aw%2Frd", "encoded ***"],
    ["ab is too short to be registered", "ab is too short to be registered"],
  ])("%j → %j", (text, redacted) => {
    expect(redactSecrets(text)).toBe(redacted);
  });

  it.each([
    ["postgres://ess:hunter22@127.0.0.1:5432/hms", "postgres://ess:***@127.0.0.1:5432/hms"],
    ["postgresql://ess@127.0.0.1/hms", "postgresql://ess@127.0.0.1/hms"],
    ["postgres://127.0.0.1/hms?user=ess&password=hunter22", "postgres://127.0.0.1/hms?user=ess&password=***"],
    ["https://api:k3y@gis.example/x", "https://api:***@gis.example/x"],
    ["failed: postgres://a:pw1@h/db and http://b:pw2@h/", "failed: postgres://a:***@h/db and http://b:***@h/"],
  ])("redactUrl(%j) → %j", (url, redacted) => {
    expect(redactUrl(url)).toBe(redacted);
  });

  it.each([
    ["postgres://ess:hunter22@db/hms", "hunter22"],
    ["postgres://ess:p%40ss@db/hms", "p@ss"],
    ["postgres://db/hms?password=qwerty", "qwerty"],
    ["postgres://ess@db/hms", undefined],
    ["not a url", undefined],
  ])("the password of %j is %j", (url, password) => {
    expect(urlPassword(url)).toBe(password);
  });
});

describe("credential positions in ess.yaml and connector files", () => {
  it.each([
    [["sftp", "password"], true],
    [["sftp", "passphrase"], true],
    [["sftp", "privateKey"], true],
    [["soap", "security", "username"], true],
    [["rest", "headers", "X-API-Key"], true],
    [["rest", "headers", "Content-Type"], true],
    [["inbound", "hmacSecret"], true],
    [["inbound", "bearerToken"], true],
    [["apiKey"], true],
    [["sftp", "hostKey"], false],
    [["sftp", "host"], false],
    [["sftp", "username"], false],
    [["database", "url"], false],
    [["name"], false],
  ])("%j is a credential: %s", (path, secret) => {
    expect(isSecretPath(path)).toBe(secret);
  });
});
