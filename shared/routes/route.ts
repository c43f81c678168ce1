/**
 * The shape of one route declaration and the types derived from it: what a handler gets and
 * may answer, what a client sends and gets back. Type-only apart from tiny helpers, so the
 * browser client can import its types without shipping zod.
 * @module
 */
import type { z } from "zod";
import type { ErrorCode } from "../error_codes.ts";
import type { PathParams, QueryValue, RoutePath } from "./path.ts";

/**
 * Who may call a route: `runtime` — the runtime's bearer or capability token when the runtime
 * is started with one (DESIGN §4, §8); `admin` — the Backend's admin bearer token or a login
 * session when an admin token is configured (DESIGN §8).
 */
export type Auth = "runtime" | "admin";

/** One documented non-error answer: 2xx with a JSON schema, or 101/304 without a body. */
export interface Success {
  readonly description: string;
  readonly schema?: z.ZodType;
}

/**
 * One route, declared once (DESIGN §12): method, path, operationId (its key in the table),
 * summary, tag, request schemas, every status it can send, and its auth. `errors` lists the
 * error codes it can answer; their statuses (`ERROR_CODES`) and the §5 error schema complete
 * the responses. Path parameters come from the template's `{name}` segments.
 */
export interface RouteDef extends RoutePath {
  readonly tag: string;
  readonly summary: string;
  readonly description?: string;
  /** Query parameters (a `z.object` of optional strings, coerced by the schema). */
  readonly query?: z.ZodObject;
  /** The JSON request body. */
  readonly body?: z.ZodType;
  /** Whether a body must be sent (else an empty body reads as `{}`). */
  readonly bodyRequired?: boolean;
  readonly responses: Readonly<Record<number, Success>>;
  readonly errors: readonly ErrorCode[];
  readonly auth: Auth;
}

/** A table: operationId → declaration. */
export type RouteTable = Readonly<Record<string, RouteDef>>;

/** A documented JSON answer. */
export function json<S extends z.ZodType>(schema: S, description: string) {
  return { schema, description };
}

type JsonStatus<D extends RouteDef> = {
  [S in keyof D["responses"]]: D["responses"][S] extends { schema: z.ZodType } ? S : never;
}[keyof D["responses"]];

type SchemaAt<D extends RouteDef, S extends keyof D["responses"]> = D["responses"][S] extends
  { schema: infer Z extends z.ZodType } ? Z : never;

/** What a handler may answer: a documented status with its body, or a raw Response. */
export type Reply<D extends RouteDef> =
  | { [S in JsonStatus<D>]: { status: S; body: z.input<SchemaAt<D, S>> } }[JsonStatus<D>]
  | Response;

/** The JSON a client gets back from a route's success answers. */
export type Answer<D extends RouteDef> = {
  [S in JsonStatus<D>]: z.output<SchemaAt<D, S>>;
}[JsonStatus<D>];

type QueryOut<D extends RouteDef> = D["query"] extends z.ZodType ? z.output<D["query"]>
  : Record<string, never>;
type BodyOut<D extends RouteDef> = D["body"] extends z.ZodType ? z.output<D["body"]> : undefined;
type BodyIn<D extends RouteDef> = D["body"] extends z.ZodType ? z.input<D["body"]> : never;

/** What a handler gets: path values, the parsed query, and the body on demand. */
export interface Input<D extends RouteDef> {
  params: PathParams<D["path"]>;
  query: QueryOut<D>;
  /**
   * The body parsed against the route's schema (`invalid_json`, `invalid_request`,
   * `body_too_large`); read on demand, so a handler can check ids first.
   */
  body(): Promise<BodyOut<D>>;
  /** The body as JSON, unvalidated, for handlers that validate it themselves. */
  json(): Promise<unknown>;
}

/** What a client passes: path values, query and body, each only when the route has them. */
export type CallInput<D extends RouteDef> =
  & (keyof PathParams<D["path"]> extends never ? { params?: undefined }
    : { params: PathParams<D["path"]> })
  & (D["query"] extends z.ZodType ? { query?: { [K in keyof z.output<D["query"]>]?: QueryValue } }
    : { query?: undefined })
  & (D["body"] extends z.ZodType ? { body?: BodyIn<D> } : { body?: undefined });
