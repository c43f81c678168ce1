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
    app.on(r.method, honoPattern(r.path), async (c) => {
      let raw: Promise<unknown> | undefined;
      const json = () => raw ??= parseJsonBody(c.req.raw, RawJson, max);
      const out = await handler({
        params: c.req.param(),
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
