// Splits a libpq multi-host URL (postgres://user@host1:5432,host2:5432/db) into one URL per host.

/** One URL per host, in the order given; a single-host URL comes back as it is. */
export function sourceHostUrls(url: string): string[] {
  const match = /^(postgres(?:ql)?:\/\/)([^@/?#]*@)?([^/?#]*)(.*)$/s.exec(url);
  const hosts = match?.[3];
  if (!match || hosts === undefined || !hosts.includes(",")) return [url];
  return hosts.split(",").map((host) => `${match[1]}${match[2] ?? ""}${host}${match[4] ?? ""}`);
}

export function hasSeveralHosts(url: string): boolean {
  return sourceHostUrls(url).length > 1;
}
