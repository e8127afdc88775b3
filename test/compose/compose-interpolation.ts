// Docker Compose's variable substitution, enough of it to read docker-compose.yml as `docker
// compose config` would with a given environment: ${VAR}, ${VAR:-default}, ${VAR-default}, $$.

const VARIABLE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)((?:[^{}]|\{[^{}]*\})*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

export function interpolate(text: string, env: Readonly<Record<string, string | undefined>>): string {
  return text.replace(
    VARIABLE,
    (whole, braced: string | undefined, operator: string | undefined, fallback: string | undefined, bare) => {
      if (whole === "$$") return "$";
      const name = (braced ?? bare) as string;
      const value = env[name];
      if (operator === ":-") return value === undefined || value === "" ? interpolate(fallback ?? "", env) : value;
      if (operator === "-") return value === undefined ? interpolate(fallback ?? "", env) : value;
      return value ?? "";
    },
  );
}

/** Every string in a parsed YAML value, interpolated. */
export function interpolateDeep(value: unknown, env: Readonly<Record<string, string | undefined>>): unknown {
  if (typeof value === "string") return interpolate(value, env);
  if (Array.isArray(value)) return value.map((v) => interpolateDeep(v, env));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateDeep(v, env)]));
  }
  return value;
}
