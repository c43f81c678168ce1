/**
 * Method and path of every Backend `/api` route (DESIGN §6, §12), keyed by operationId —
 * the part of the Backend route table the browser needs, kept apart from the schemas in
 * `backend.ts` so islands can build paths without shipping zod. The operationId is also the
 * audit log's operation name.
 * @module
 */
import { fillPath, matchRoute, type PathParams, type QueryValue, type RoutePath } from "./path.ts";

/** Where the Backend's API lives; everything else on the origin is a page or an asset. */
export const API_PREFIX = "/api";

const R = "/api/runtimes/{runtime_id}";
const W = `${R}/workers/{worker_id}`;
const C = "/api/settings/runtime-connections";

/** The `/api` routes: operationId → method and path. */
export const BACKEND_PATHS = {
  "runtime.list": { method: "GET", path: "/api/runtimes" },
  "runtime.get": { method: "GET", path: R },
  "worker.list_all": { method: "GET", path: "/api/workers" },
  "backend.get": { method: "GET", path: "/api/backend" },
  "host.list": { method: "GET", path: "/api/hosts" },
  "openapi.get": { method: "GET", path: "/api/openapi.json" },
  "live.connect": { method: "GET", path: "/api/live" },
  "worker.list": { method: "GET", path: `${R}/workers` },
  "worker.create": { method: "POST", path: `${R}/workers` },
  "worker.get": { method: "GET", path: W },
  "worker.rename": { method: "PATCH", path: W },
  "worker.delete": { method: "DELETE", path: W },
  "worker.input": { method: "POST", path: `${W}/input` },
  "worker.cancel": { method: "POST", path: `${W}/cancel` },
  "worker.stop": { method: "POST", path: `${W}/stop` },
  "worker.restore": { method: "POST", path: `${W}/restore` },
  "worker.pause": { method: "POST", path: `${W}/pause` },
  "worker.resume": { method: "POST", path: `${W}/resume` },
  "worker.transcript": { method: "GET", path: `${W}/transcript` },
  "worker.events": { method: "GET", path: `${W}/events` },
  "connection.list": { method: "GET", path: C },
  "connection.add": { method: "POST", path: C },
  "connection.edit": { method: "PATCH", path: `${C}/{id}` },
  "connection.delete": { method: "DELETE", path: `${C}/{id}` },
  "connection.test": { method: "POST", path: `${C}/{id}/test` },
  "connection.test_candidate": { method: "POST", path: `${C}/test` },
} as const satisfies Record<string, RoutePath>;

/** An operationId of the Backend API. */
export type BackendOperationId = keyof typeof BACKEND_PATHS;

/** The path values an operation needs. */
export type BackendParams<K extends BackendOperationId> = PathParams<
  typeof BACKEND_PATHS[K]["path"]
>;

/** The path (with query) of a Backend operation: the one way pages and clients spell one. */
export function apiPath<K extends BackendOperationId>(
  op: K,
  ...[params, query]: keyof BackendParams<K> extends never
    ? [params?: Record<string, never>, query?: Record<string, QueryValue>]
    : [params: BackendParams<K>, query?: Record<string, QueryValue>]
): string {
  return fillPath(BACKEND_PATHS[op].path, params as Record<string, string>, query);
}

/** Whether a request path is under the API (else a page or an asset). */
export function isApiPath(path: string): boolean {
  return path === API_PREFIX || path.startsWith(`${API_PREFIX}/`);
}

/** The operation `method path` reaches, with its path values (for the audit log). */
export function backendOperation(method: string, path: string) {
  return matchRoute(BACKEND_PATHS, method, path);
}
