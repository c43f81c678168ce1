/**
 * Path templates of the route tables (`/v1/workers/{worker_id}`): the one place a template
 * becomes a URL path, a Hono pattern or a match. Zod-free, so the browser bundle can use it.
 * @module
 */

/** The HTTP methods the APIs use. */
export type Method = "GET" | "POST" | "PATCH" | "DELETE";

/** The names of a template's `{name}` segments. */
export type PathParamName<P extends string> = P extends `${string}{${infer N}}${infer Rest}`
  ? N | PathParamName<Rest>
  : never;

/** The values a template needs, one string per `{name}`. */
export type PathParams<P extends string> = { [K in PathParamName<P>]: string };

/** A query value; `undefined` leaves the key out. */
export type QueryValue = string | number | boolean | undefined;

/** What a table entry must have for paths to be built and matched. */
export interface RoutePath {
  readonly method: Method;
  readonly path: string;
}

/**
 * Fills a template: each `{name}` becomes its percent-encoded value, then the defined query
 * values follow in the order given. A missing value is a programming error and throws.
 */
export function fillPath(
  template: string,
  params: Readonly<Record<string, string>> = {},
  query?: Readonly<Record<string, QueryValue>>,
): string {
  const path = template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const v = params[name];
    if (typeof v !== "string") throw new Error(`path ${template} needs {${name}}`);
    return encodeURIComponent(v);
  });
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) q.set(k, String(v));
  const qs = q.toString();
  return qs ? `${path}?${qs}` : path;
}

/** The Hono pattern of a template (`{name}` → `:name`). */
export function honoPattern(template: string): string {
  return template.replace(/\{([^}]+)\}/g, ":$1");
}

/** The prefix every path of a table starts with (`/v1`, `/api`), read from the table. */
export function prefixOf(table: Readonly<Record<string, RoutePath>>): string {
  const prefixes = new Set(Object.values(table).map((r) => `/${r.path.split("/")[1]}`));
  if (prefixes.size !== 1) throw new Error("a route table has one path prefix");
  return [...prefixes][0];
}

/** A request matched against a table: the operation and its (decoded) path values. */
export interface PathMatch<K extends string = string> {
  operationId: K;
  params: Record<string, string>;
}

/**
 * Matches a concrete path against templates. A literal segment beats a `{name}` one, so
 * `/runtime-connections/test` is the candidate test, not a connection called "test".
 */
function matchTemplate(template: string, path: string): Record<string, string> | undefined {
  const want = template.split("/");
  const got = path.split("/");
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i];
    if (w.startsWith("{") && w.endsWith("}")) {
      if (got[i] === "") return undefined;
      try {
        params[w.slice(1, -1)] = decodeURIComponent(got[i]);
      } catch {
        params[w.slice(1, -1)] = got[i];
      }
    } else if (w !== got[i]) return undefined;
  }
  return params;
}

function literalCount(template: string): number {
  return template.split("/").filter((s) => !s.startsWith("{")).length;
}

/** The operation of a table that `method path` reaches, if any. */
export function matchRoute<K extends string>(
  table: Readonly<Record<K, RoutePath>>,
  method: string,
  path: string,
): PathMatch<K> | undefined {
  let best: PathMatch<K> | undefined;
  let bestScore = -1;
  for (const [id, r] of Object.entries(table) as [K, RoutePath][]) {
    if (r.method !== method.toUpperCase()) continue;
    const params = matchTemplate(r.path, path);
    const score = params ? literalCount(r.path) : -1;
    if (params && score > bestScore) {
      best = { operationId: id, params };
      bestScore = score;
    }
  }
  return best;
}

/** The methods a table takes at a concrete path (empty for a path it does not know). */
export function methodsAt(table: Readonly<Record<string, RoutePath>>, path: string): Method[] {
  const out = new Set<Method>();
  for (const r of Object.values(table)) if (matchTemplate(r.path, path)) out.add(r.method);
  return [...out];
}
