// How a relative path written in a configuration file is resolved.
import { isAbsolute, resolve } from "node:path";

export interface PathBase {
  /** Directory of the file that names the path. */
  readonly dir: string;
  /** The configuration root: ess.yaml's directory. */
  readonly root: string;
  readonly fileExists: (path: string) => boolean;
}

export interface ResolvedPath {
  readonly path: string;
  readonly exists: boolean;
  /** Every place looked at, for the error message when nothing was found. */
  readonly tried: readonly string[];
}

/**
 * A relative path is relative to the directory of the file that names it. When nothing exists
 * there but the path names an existing file under the configuration root, that file is used:
 * a connector may write `./connectors/county_scheduler.wsdl` as the SPEC example does, seen
 * from ess.yaml, as well as `./county_scheduler.wsdl`, seen from its own directory.
 */
export function resolveConfigPath(path: string, base: PathBase): ResolvedPath {
  if (isAbsolute(path)) return { path, exists: base.fileExists(path), tried: [path] };
  const own = resolve(base.dir, path);
  if (base.fileExists(own) || base.dir === base.root) return { path: own, exists: base.fileExists(own), tried: [own] };
  const fromRoot = resolve(base.root, path);
  if (base.fileExists(fromRoot)) return { path: fromRoot, exists: true, tried: [own, fromRoot] };
  return { path: own, exists: false, tried: [own, fromRoot] };
}
