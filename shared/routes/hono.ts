/**
 * Registers a route table's handlers on a Hono app: the method and pattern come from the
 * table, the query is parsed with its schema before the handler runs, the body when the
 * handler asks for it. Handlers stay thin: they get typed input and answer a documented
 * status with its body (type-checked against the table), or a raw Response (a WebSocket
 * upgrade, a 304, bytes forwarded as they are).
 * @module
 */
import type { Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { ApiError } from "../errors.ts";
import { errorResponse, MAX_BODY_BYTES, parseJsonBody, parseWith } from "../http.ts";
import { honoPattern, methodsAt } from "./path.ts";
import type { Input, Reply, RouteDef, RouteTable } from "./route.ts";

/** One route's handler. */
export type Handler<D extends RouteDef> = (
  input: Input<D>,
  c: Context,
) => Reply<D> | Promise<Reply<D>>;

/** A handler for every operation of a table (a missing one does not type-check). */
export type Handlers<T extends RouteTable> = { [K in keyof T]: Handler<T[K]> };

const RawJson = z.unknown();

/** A handler as the registration loop sees it (the table's types are checked at the call). */
type LooseHandler = (
  input: { params: unknown; query: unknown; json(): Promise<unknown>; body(): Promise<unknown> },
  c: Context,
) => Promise<Response | { status: number; body: unknown }>;

/** The name prefix of a parameter that stands for a literal segment (see {@link registrationOf}). */
const LITERAL_PARAM = "_literal_";

/**
 * The table template (`/a/{id}/b`) of a pattern as registered on the app: the inverse of
 * {@link registrationOf}, for checks that compare what an app serves with its documents.
 */
export function templateOf(pattern: string): string {
  return pattern.split("/").map((seg) =>
    seg.startsWith(`:${LITERAL_PARAM}`)
      ? seg.slice(LITERAL_PARAM.length + 1)
      : seg.replace(/^:([A-Za-z0-9_]+)(\{[^}]*\})?$/, "{$1}")
  ).join("/");
}

/**
 * The Hono pattern a route is registered with, and the literal segments it must check itself.
 *
 * Hono's fastest router (RegExpRouter, the first SmartRouter tries) cannot take a literal
 * segment where another route of the same method has a parameter after the same prefix
 * (`POST …/runtime-connections/test` beside `POST …/runtime-connections/{id}/test`): one such
 * pair makes SmartRouter fall back to TrieRouter for the whole app, every request paying a
 * slower match (issue 15). Such a literal is registered as a parameter instead and compared
 * by the handler, so the public paths stay those of the table (DESIGN §6, §12).
 */
export function registrationOf(
  table: RouteTable,
  op: string,
): { pattern: string; literals: [string, string][] } {
  const r = table[op];
  const segs = r.path.split("/");
  const isParam = (s: string) => s.startsWith("{") && s.endsWith("}");
  const literals: [string, string][] = [];
  const out = segs.map((seg, i) => {
    if (seg === "" || isParam(seg)) return seg;
    const clash = Object.entries(table).some(([other, o]) => {
      if (other === op || o.method !== r.method) return false;
      const os = o.path.split("/");
      if (os.length <= i || !isParam(os[i])) return false;
      for (let j = 0; j < i; j++) {
        if (isParam(os[j]) ? !isParam(segs[j]) : os[j] !== segs[j]) return false;
      }
      return true;
    });
    if (!clash) return seg;
    const name = `${LITERAL_PARAM}${seg}`;
    literals.push([name, seg]);
    return `{${name}}`;
  });
  return { pattern: honoPattern(out.join("/")), literals };
}

/** Adds every route of `table` to `app` with its handler. */
export function registerRoutes<T extends RouteTable>(
  // deno-lint-ignore no-explicit-any
  app: Hono<any>,
  table: T,
  handlers: Handlers<T>,
  opts: { maxBodyBytes?: number } = {},
): void {
  const max = opts.maxBodyBytes ?? MAX_BODY_BYTES;
  for (const op of Object.keys(table) as (keyof T & string)[]) {
    const r: RouteDef = table[op];
    const handler = handlers[op] as unknown as LooseHandler;
    const { pattern, literals } = registrationOf(table, op);
    app.on(r.method, pattern, async (c, next) => {
      const params = c.req.param() as Record<string, string>;
      for (const [name, literal] of literals) {
        // Another path after all: the next route, or the 404/405 rule.
        if (params[name] !== literal) return await next();
        delete params[name];
      }
      let raw: Promise<unknown> | undefined;
      const json = () => raw ??= parseJsonBody(c.req.raw, RawJson, max);
      const out = await handler({
        params,
        query: r.query ? parseWith(r.query, c.req.query()) : {},
        json,
        body: async () => r.body ? parseWith(r.body, await json()) : undefined,
      }, c);
      if (out instanceof Response) return out;
      return c.json(out.body, out.status as ContentfulStatusCode);
    });
  }
}

/**
 * The answer for a request no route took: 405 `method_not_allowed` with `Allow` when the
 * table knows the path with other methods (DESIGN §4), else 404 `not_found`.
 */
export function unrouted(table: RouteTable, path: string): Response {
  const allow = methodsAt(table, path);
  if (allow.length > 0) {
    return errorResponse(
      new ApiError("method_not_allowed", `This path takes ${allow.join(", ")}.`),
      { allow: allow.join(", ") },
    );
  }
  return errorResponse(new ApiError("not_found", "No such route."));
}
