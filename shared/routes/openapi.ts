/**
 * Builds an OpenAPI 3.0 document from a route table: one operation per entry with its
 * operationId, summary, tag, parameters, body, every success answer and one error answer
 * per status its error codes map to (the DESIGN §5 body with `code` limited to those codes).
 * The generator is loaded on first use, so serving an API does not pay for it at start.
 * @module
 */
import { z } from "zod";
import { DiagnosticSchema } from "../errors.ts";
import { ERROR_CODES, type ErrorCode } from "../error_codes.ts";
import type { Auth, RouteTable } from "./route.ts";

/** The parts of a document that are not in the table. */
export interface DocumentOptions {
  title: string;
  version: string;
  description: string;
  servers: { url: string; description: string }[];
  tags: { name: string; description: string }[];
  /** Security schemes by name, and what each `auth` kind of the table requires. */
  securitySchemes: Record<string, Record<string, unknown>>;
  security: Record<Auth, Record<string, string[]>[]>;
  /** Schemas of `{name}` path segments (default: a string). */
  pathParams?: Record<string, z.ZodType>;
  /** Schemas shown once under `components.schemas` and referenced everywhere they occur. */
  components?: Record<string, z.ZodType>;
}

const REASONS: Record<number, string> = {
  400: "Bad request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not found",
  405: "Method not allowed",
  409: "Conflict",
  413: "Request body too large",
  429: "Too many",
  500: "Unexpected error",
  501: "Not implemented",
  502: "Bad gateway",
  503: "Unavailable",
  504: "Gateway timeout",
  507: "Insufficient storage",
};

/** The DESIGN §5 error body whose `code` is one of `codes`. */
export function errorBodySchema(codes: readonly ErrorCode[]) {
  return z.object({
    error: z.object({
      code: z.enum(codes as [ErrorCode, ...ErrorCode[]]),
      message: z.string(),
    }),
    diagnostics: z.array(DiagnosticSchema),
  });
}

/** The error codes of a route grouped by the status each one is sent with. */
export function errorsByStatus(codes: readonly ErrorCode[]): Map<number, ErrorCode[]> {
  const out = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const status = ERROR_CODES[code];
    if (status < 400) throw new Error(`${code} is a diagnostic code, not an error`);
    out.set(status, [...(out.get(status) ?? []), code].sort());
  }
  return new Map([...out].sort(([a], [b]) => a - b));
}

function paramsOf(path: string, schemas: Record<string, z.ZodType>) {
  const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
  if (names.length === 0) return undefined;
  return z.object(Object.fromEntries(names.map((n) => [n, schemas[n] ?? z.string()])));
}

/** The OpenAPI document of `table`. */
export async function buildOpenApiDocument(
  table: RouteTable,
  opts: DocumentOptions,
): Promise<Record<string, unknown>> {
  const { OpenAPIRegistry, OpenApiGeneratorV3, zodToOpenAPIRegistry } = await import(
    "@asteasolutions/zod-to-openapi"
  );
  const registry = new OpenAPIRegistry();
  // Named in the generator's registry, so every place a schema occurs becomes a `$ref`.
  for (const [name, schema] of Object.entries(opts.components ?? {})) {
    if (!zodToOpenAPIRegistry.has(schema)) {
      zodToOpenAPIRegistry.add(schema, { _internal: { refId: name } });
    }
  }
  for (const [name, scheme] of Object.entries(opts.securitySchemes)) {
    // deno-lint-ignore no-explicit-any
    registry.registerComponent("securitySchemes", name, scheme as any);
  }
  const errorSchemas = new Map<string, z.ZodType>();
  for (const [operationId, r] of Object.entries(table)) {
    const responses: Record<string, unknown> = {};
    for (const [status, s] of Object.entries(r.responses)) {
      responses[status] = s.schema
        ? { description: s.description, content: { "application/json": { schema: s.schema } } }
        : { description: s.description };
    }
    for (const [status, codes] of errorsByStatus(r.errors)) {
      const key = codes.join(",");
      let schema = errorSchemas.get(key);
      if (!schema) errorSchemas.set(key, schema = errorBodySchema(codes));
      responses[status] = {
        description: `${REASONS[status] ?? "Error"}: ${codes.map((c) => `\`${c}\``).join(", ")}`,
        content: { "application/json": { schema } },
      };
    }
    registry.registerPath({
      method: r.method.toLowerCase() as "get",
      path: r.path,
      operationId,
      summary: r.summary,
      ...(r.description ? { description: r.description } : {}),
      tags: [r.tag],
      security: opts.security[r.auth],
      request: {
        params: paramsOf(r.path, opts.pathParams ?? {}),
        query: r.query,
        body: r.body
          ? {
            required: r.bodyRequired ?? false,
            content: { "application/json": { schema: r.body } },
          }
          : undefined,
      },
      // deno-lint-ignore no-explicit-any
      responses: responses as any,
    });
  }
  const doc = new OpenApiGeneratorV3(registry.definitions).generateDocument({
    openapi: "3.0.3",
    info: { title: opts.title, version: opts.version, description: opts.description },
    servers: opts.servers,
    tags: opts.tags,
  });
  return anyValueFix(doc) as Record<string, unknown>;
}

/**
 * `z.unknown()` comes out as `{nullable: true}`, which OpenAPI 3.0 does not allow without a
 * `type`; `{}` says the same (any JSON value).
 */
function anyValueFix(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(anyValueFix);
  if (typeof v !== "object" || v === null) return v;
  const keys = Object.keys(v);
  if (keys.length === 1 && (v as { nullable?: unknown }).nullable === true) return {};
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, anyValueFix(x)]));
}
