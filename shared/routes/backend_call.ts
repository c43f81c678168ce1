/**
 * One Backend API call by operationId: method and path from the route table, types of the
 * input and the answer from its schemas. Zod-free (the table's types are imported as types
 * only), so the browser client ships it; the validating client adds the schema check.
 * @module
 */
import { apiRequest, type RequestOptions } from "../api_request.ts";
import { BACKEND_PATHS, type BackendOperationId } from "./backend_paths.ts";
import type { BackendRoutes } from "./backend.ts";
import { fillPath } from "./path.ts";
import type { Answer, CallInput } from "./route.ts";

/** The input of an operation: optional when the route takes no path values and no body. */
export type CallArgs<K extends BackendOperationId> =
  // deno-lint-ignore ban-types
  {} extends CallInput<BackendRoutes[K]> ? [input?: CallInput<BackendRoutes[K]>]
    : [input: CallInput<BackendRoutes[K]>];

/** The JSON a successful call of `K` answers. */
export type BackendAnswer<K extends BackendOperationId> = Answer<BackendRoutes[K]>;

/** The path (with query) an operation is called at. */
export function callPath<K extends BackendOperationId>(
  op: K,
  input?: CallInput<BackendRoutes[K]>,
): string {
  return fillPath(
    BACKEND_PATHS[op].path,
    (input?.params ?? {}) as Record<string, string>,
    input?.query,
  );
}

/** Calls `op` and resolves with the parsed JSON of a 2xx answer (typed errors otherwise). */
export function backendCall<K extends BackendOperationId>(
  baseUrl: string,
  opts: RequestOptions,
  op: K,
  input?: CallInput<BackendRoutes[K]>,
): Promise<unknown> {
  return apiRequest(baseUrl, opts, BACKEND_PATHS[op].method, callPath(op, input), input?.body);
}
