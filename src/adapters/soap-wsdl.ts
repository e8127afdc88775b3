// The operations a WSDL defines, read with the same client the SOAP adapter uses, so `check` and delivery agree.
import { createClientAsync } from "soap";

/** Every operation of every binding of every service port in the WSDL (a file path or an http(s) URL). */
export async function wsdlOperations(wsdl: string, timeoutMs: number): Promise<ReadonlySet<string>> {
  const client = await createClientAsync(wsdl, { disableCache: true, wsdl_options: { timeout: timeoutMs } });
  const operations = new Set<string>();
  for (const service of Object.values(client.wsdl.definitions.services)) {
    for (const port of Object.values(service.ports)) {
      for (const name of Object.keys(port.binding.methods)) operations.add(name);
    }
  }
  return operations;
}

/** A WSDL file path as it is; a URL without credentials or query string (see safeUrl). */
export function displayWsdl(wsdl: string): string {
  return /^https?:\/\//i.test(wsdl) ? safeUrl(wsdl) : wsdl;
}

/** The URL without credentials or query string (except ?wsdl, which says what was fetched). */
export function safeUrl(url: string): string {
  const parsed = new URL(url);
  const query = /^\?wsdl$/i.test(parsed.search) ? parsed.search : "";
  return `${parsed.origin}${parsed.pathname}${query}`;
}
