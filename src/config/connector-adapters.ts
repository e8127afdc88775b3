// Reads the adapter section of a connector file: sftp, ftp, file, soap or rest (SPEC §3.2).
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} and ${file:} are configuration syntax here, not template literals

import { DEFAULTS } from "./defaults.js";
import { appendRotationProblem, checkDropTemplate, templatePlaceholdersText } from "./drop-template.js";
import { resolveConfigPath } from "./paths.js";
import type { DropOptions, FtpOptions, RestOptions, SftpOptions, SoapOptions } from "./types.js";
import { withoutCredentials } from "./url-credentials.js";
import type { MapReader, ValueReader } from "./yaml-reader.js";

const DROP_KEYS = ["dir", "file", "mode", "tempSuffix", "doneFile", "rotate"];
const SFTP_KEYS = [...DROP_KEYS, "host", "port", "username", "privateKey", "passphrase", "password", "hostKey"];
const FTP_KEYS = [...DROP_KEYS, "host", "port", "username", "password", "caFile", "certFingerprint", "insecure"];
const SOAP_KEYS = ["wsdl", "endpoint", "operation", "security", "timeout", "attachment", "recordCount"];
const REST_KEYS = ["url", "method", "headers", "timeout", "health", "caFile"];

const HTTP_URL_TEXT = "an http:// or https:// URL";
/** `openssl x509 -noout -fingerprint -sha256` prints "sha256 Fingerprint=AB:CD:…"; "SHA256:" and bare hex are also read. */
const CERT_FINGERPRINT = /^(?:(?:sha256 fingerprint=|sha256:))?((?:[0-9a-f]{2}:?){31}[0-9a-f]{2})$/i;
const CERT_FINGERPRINT_TEXT =
  "the SHA-256 fingerprint of the server certificate as `openssl x509 -noout -fingerprint -sha256` prints it";
/**
 * The form `ssh-keygen -lf` prints: "SHA256:" and the 43 base64 characters of the digest (a
 * trailing "=" is tolerated). A placeholder such as "SHA256:..." would only fail at connect time.
 */
const HOST_KEY = /^\s*SHA256:[A-Za-z0-9+/]{43}=?\s*$/;
const HOST_KEY_TEXT =
  'a pinned fingerprint "SHA256:" followed by 43 base64 characters, as `ssh-keygen -lf <host key>.pub` prints it';
const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.:-]+)$/;
const OPERATION = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const ELEMENT = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const ELEMENT_TEXT = "an element name of the operation's input";

const REST_AUTH = 'rest.headers, e.g. headers: { Authorization: "Bearer ${GIS_TOKEN}" } or { X-API-Key: "${GIS_KEY}" }';
const SOAP_AUTH = "soap.security: { username: ${USER}, password: ${PASS} } (WS-Security)";

export function isHttpUrl(text: string): boolean {
  if (!/^https?:\/\//i.test(text)) return false;
  try {
    new URL(text);
    return true;
  } catch {
    // Reported by the caller with the value's position.
    return false;
  }
}

/** `local`: the directory is on this machine (adapter file) and relative paths are resolved; an SFTP dir is remote. */
export function readDrop(section: MapReader, local: boolean): DropOptions {
  const dir = section.require("dir", "a directory")?.string("a directory");
  const mode = section.get("mode")?.oneOf(["file-per-batch", "append"], "mode") ?? DEFAULTS.dropMode;
  const file = section.require("file", "a file name template")?.string("a file name template");
  const fileValue = section.get("file");
  if (file !== undefined && fileValue) {
    const problem = checkDropTemplate(file, "file");
    if (problem) fileValue.fail(problem, { expected: `a file name using ${templatePlaceholdersText("file")}` });
    // Two batches with the same name would overwrite each other: a lost change.
    else if (mode === "file-per-batch" && !file.includes("{batch}")) {
      fileValue.fail(`${JSON.stringify(file)} has no {batch}, so a second batch would overwrite the first`, {
        expected: "a template with {batch} in file-per-batch mode",
        found: JSON.stringify(file),
      });
    }
  }
  const tempSuffix = section.get("tempSuffix")?.text("a suffix such as .part")?.value ?? DEFAULTS.tempSuffix;
  const doneValue = section.get("doneFile");
  const doneFile = doneValue?.string("a file name template");
  if (doneValue && doneFile !== undefined) {
    const problem = checkDropTemplate(doneFile, "doneFile");
    if (problem) doneValue.fail(problem, { expected: `a file name using ${templatePlaceholdersText("doneFile")}` });
  }
  const rotateValue = section.get("rotate");
  const rotateMs = rotateValue?.duration();
  if (rotateValue && rotateMs !== undefined && mode === "append" && file !== undefined) {
    const problem = appendRotationProblem(file, rotateMs);
    if (problem) {
      rotateValue.fail(problem, {
        expected: "a file with {date:…} fine enough for the period, e.g. permits_{date:%Y%m%d}.csv with rotate: 7d",
        found: JSON.stringify(file),
      });
    }
  }
  return {
    ...(rotateMs !== undefined ? { rotateMs } : {}),
    dir: local && dir !== undefined ? resolveConfigPath(dir, section.ctx).path : (dir ?? ""),
    file: file ?? "",
    mode,
    tempSuffix,
    ...(doneFile !== undefined ? { doneFile } : {}),
  };
}

export function readSftp(section: MapReader): SftpOptions {
  const host = section.require("host", "a host name")?.matching(HOST, "a host name or address");
  const port = section.get("port")?.integer({ min: 1, max: 65535, expected: "a port from 1 to 65535" });
  const username = section.require("username", "a user name")?.string("a user name");
  const privateKey = section.get("privateKey")?.string("a private key (e.g. ${file:/run/secrets/key})");
  const passphrase = section.get("passphrase")?.string("the private key's passphrase");
  const password = section.get("password")?.string("a password");
  const hostKey = section.require("hostKey", HOST_KEY_TEXT)?.matching(HOST_KEY, HOST_KEY_TEXT);
  if (!section.has("privateKey") && !section.has("password")) {
    section.fail("sftp needs privateKey or password", { expected: "privateKey: ${file:/path} or password: ${VAR}" });
  }
  if (section.has("passphrase") && !section.has("privateKey")) {
    section.get("passphrase")?.fail("passphrase is only used with privateKey", { expected: "privateKey" });
  }
  return {
    ...readDrop(section, false),
    host: host ?? "",
    port: port ?? DEFAULTS.sftpPort,
    username: username ?? "",
    ...(privateKey !== undefined ? { privateKey } : {}),
    ...(passphrase !== undefined ? { passphrase } : {}),
    ...(password !== undefined ? { password } : {}),
    hostKey: hostKey ?? "",
  };
}

export function readFtp(section: MapReader): FtpOptions {
  const host = section.require("host", "a host name")?.matching(HOST, "a host name or address");
  const username = section.require("username", "a user name")?.string("a user name");
  const password = section.require("password", "a password (e.g. ${FTP_PASSWORD})")?.string("a password");
  const insecureValue = section.get("insecure");
  const insecure = insecureValue?.boolean() ?? false;
  const port =
    section.get("port")?.integer({ min: 1, max: 65535, expected: "a port from 1 to 65535" }) ?? DEFAULTS.ftpPort;
  const caFile = readPemFile(section.get("caFile"));
  const pinValue = section.get("certFingerprint");
  const pinText = pinValue?.string(CERT_FINGERPRINT_TEXT);
  let certFingerprint: string | undefined;
  if (pinValue && pinText !== undefined) {
    const hex = CERT_FINGERPRINT.exec(pinText.trim())?.[1];
    if (hex === undefined)
      pinValue.fail(`${pinValue.describe()} is not ${CERT_FINGERPRINT_TEXT}`, { expected: CERT_FINGERPRINT_TEXT });
    else certFingerprint = hex.replaceAll(":", "").toUpperCase();
  }
  if (insecure) {
    // Verifying a certificate that plain FTP never presents would be a false sense of safety.
    for (const key of ["caFile", "certFingerprint"]) {
      section.get(key)?.fail(`${key} has no effect with insecure: true (plain FTP has no certificate)`, {
        expected: "insecure: false (the default) to use TLS",
      });
    }
  }
  return {
    ...readDrop(section, false),
    host: host ?? "",
    port,
    username: username ?? "",
    password: password ?? "",
    ...(caFile !== undefined ? { caFile } : {}),
    ...(certFingerprint !== undefined ? { certFingerprint } : {}),
    insecure,
    ...(insecure && insecureValue ? { insecureAt: insecureValue.location } : {}),
  };
}

function readPemFile(value: ValueReader | undefined): string | undefined {
  const text = value?.string("a PEM file path");
  if (value === undefined || text === undefined) return undefined;
  const resolved = resolveConfigPath(text, value.ctx);
  if (resolved.exists) return resolved.path;
  return value.fail(`CA file not found: looked at ${resolved.tried.join(" and ")}`, {
    expected: "an existing PEM file",
  });
}

export function readSoap(section: MapReader): SoapOptions {
  const wsdl = readWsdl(section.require("wsdl", "a WSDL file path or URL"));
  const endpointValue = section.get("endpoint");
  const endpoint = withoutCredentials(endpointValue, endpointValue?.matching(isHttpUrl, HTTP_URL_TEXT), SOAP_AUTH);
  const operation = section.require("operation", "a WSDL operation name")?.matching(OPERATION, "an operation name");
  const securityValue = section.get("security");
  const security = securityValue?.map(["username", "password"]);
  const username = security?.require("username", "a user name")?.string("a user name");
  const password = security?.require("password", "a password")?.string("a password");
  const attachment = section.get("attachment")?.matching(ELEMENT, ELEMENT_TEXT);
  const recordCount = section.get("recordCount")?.matching(ELEMENT, ELEMENT_TEXT);
  if (recordCount !== undefined && attachment === undefined) {
    section.get("recordCount")?.fail("recordCount is sent with a batch attachment only", { expected: "attachment" });
  }
  return {
    ...(attachment !== undefined ? { attachment } : {}),
    ...(recordCount !== undefined ? { recordCount } : {}),
    wsdl: wsdl ?? "",
    ...(endpoint !== undefined ? { endpoint } : {}),
    operation: operation ?? "",
    ...(security ? { security: { username: username ?? "", password: password ?? "" } } : {}),
    timeoutMs: section.get("timeout")?.duration() ?? DEFAULTS.partnerTimeoutMs,
  };
}

function readWsdl(value: ValueReader | undefined): string | undefined {
  const text = value?.string("a WSDL file path or URL");
  if (value === undefined || text === undefined) return undefined;
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text)) {
    return isHttpUrl(text)
      ? withoutCredentials(value, text, SOAP_AUTH)
      : value.fail(`${value.describe()} is not ${HTTP_URL_TEXT}`, { expected: HTTP_URL_TEXT });
  }
  const resolved = resolveConfigPath(text, value.ctx);
  if (!resolved.exists) {
    return value.fail(`WSDL file not found: looked at ${resolved.tried.join(" and ")}`, {
      expected: "an existing WSDL file or an http(s) URL",
      found: JSON.stringify(text),
    });
  }
  return resolved.path;
}

export function readRest(section: MapReader): RestOptions {
  const urlValue = section.require("url", HTTP_URL_TEXT);
  const url = withoutCredentials(urlValue, urlValue?.matching(isHttpUrl, HTTP_URL_TEXT), REST_AUTH);
  const method = section.get("method")?.oneOf(["POST", "PUT", "PATCH"], "method") ?? DEFAULTS.restMethod;
  const headers: Record<string, string> = {};
  for (const entry of section.get("headers")?.map()?.entries() ?? []) {
    const value = entry.value.text("a header value");
    if (value !== undefined) headers[entry.key] = value.value;
  }
  const healthValue = section.get("health");
  const health = withoutCredentials(healthValue, healthValue?.matching(isHttpUrl, HTTP_URL_TEXT), REST_AUTH);
  const caFile = readPemFile(section.get("caFile"));
  return {
    url: url ?? "",
    method,
    headers,
    timeoutMs: section.get("timeout")?.duration() ?? DEFAULTS.partnerTimeoutMs,
    ...(health !== undefined ? { health } : {}),
    ...(caFile !== undefined ? { caFile } : {}),
  };
}

export const ADAPTER_KEYS = {
  sftp: SFTP_KEYS,
  ftp: FTP_KEYS,
  file: DROP_KEYS,
  soap: SOAP_KEYS,
  rest: REST_KEYS,
} as const;
