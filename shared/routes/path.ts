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

/** A template split once: literal segments, and the parameter name at each `{name}`. */
interface CompiledRoute {
  id: string;
  method: Method;
  /** Per segment: the literal text, or null at a `{name}`. */
  literal: (string | null)[];
  /** Per segment: the parameter name at a `{name}`. */
  names: (string | null)[];
}

/** Each table's templates split once: in the table's order, and most literal segments first. */
const COMPILED = new WeakMap<object, { inOrder: CompiledRoute[]; best: CompiledRoute[] }>();

function compiled(table: Readonly<Record<string, RoutePath>>) {
  const known = COMPILED.get(table);
  if (known) return known;
  const inOrder = Object.entries(table).map(([id, r]): CompiledRoute => {
    const segs = r.path.split("/");
    const param = (w: string) => w.startsWith("{") && w.endsWith("}");
    return {
      id,
      method: r.method,
      literal: segs.map((w) => param(w) ? null : w),
      names: segs.map((w) => param(w) ? w.slice(1, -1) : null),
    };
  });
  // A literal segment beats a `{name}` one; among equals the table's order (a stable sort).
  const literals = (c: CompiledRoute) => c.literal.filter((w) => w !== null).length;
  const best = [...inOrder].sort((a, b) => literals(b) - literals(a));
  const out = { inOrder, best };
  COMPILED.set(table, out);
  return out;
}

/**
 * Matches a concrete path (already split at `/`) against one template. A literal segment
 * beats a `{name}` one, so `/runtime-connections/test` is the candidate test, not a
 * connection called "test" (the `best` order of {@link compiled}).
 */
function matchTemplate(r: CompiledRoute, got: string[]): Record<string, string> | undefined {
  if (r.literal.length !== got.length) return undefined;
  for (let i = 0; i < got.length; i++) {
    const w = r.literal[i];
    if (w === null ? got[i] === "" : w !== got[i]) return undefined;
  }
  const params: Record<string, string> = {};
  for (let i = 0; i < got.length; i++) {
    const name = r.names[i];
    if (name === null) continue;
    try {
      params[name] = decodeURIComponent(got[i]);
    } catch {
      params[name] = got[i];
    }
  }
  return params;
}

/** The operation of a table that `method path` reaches, if any. */
export function matchRoute<K extends string>(
  table: Readonly<Record<K, RoutePath>>,
  method: string,
  path: string,
): PathMatch<K> | undefined {
  const m = method.toUpperCase();
  const got = path.split("/");
  for (const r of compiled(table).best) {
    if (r.method !== m) continue;
    const params = matchTemplate(r, got);
    if (params) return { operationId: r.id as K, params };
  }
  return undefined;
}

/** The methods a table takes at a concrete path (empty for a path it does not know). */
export function methodsAt(table: Readonly<Record<string, RoutePath>>, path: string): Method[] {
  const out = new Set<Method>();
  const got = path.split("/");
  for (const r of compiled(table).inOrder) if (matchTemplate(r, got)) out.add(r.method);
  return [...out];
}
