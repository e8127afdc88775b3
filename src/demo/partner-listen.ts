// Where a stand-in partner listens, and how its address is written in a URL.

/** A partner's listen address: host and TCP port (0: any free port). */
export interface PartnerListen {
  readonly host: string;
  readonly port: number;
}

/** An IPv6 listen address needs brackets in a URL. */
export function urlHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
