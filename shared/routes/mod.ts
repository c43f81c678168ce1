/**
 * The route tables (DESIGN §12) and what derives from them: handler registration, the
 * OpenAPI documents, typed paths. The browser client imports the zod-free parts directly.
 * @module
 */
export * from "./path.ts";
export * from "./route.ts";
export * from "./runtime.ts";
export * from "./hono.ts";
export * from "./openapi.ts";
export * from "./documents.ts";
export * from "./backend_paths.ts";
export * from "./backend.ts";
