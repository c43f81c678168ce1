/**
 * The Workspace Backend's public surface. Routes live in one place each:
 * worker/runtime routes in `api.ts`, settings routes in `settings_api.ts`,
 * pages in `../web/workspace/app.tsx` (`PAGES`).
 * @module
 */
export { type Backend, BACKEND_VERSION, type BackendOptions, createBackend } from "./app.ts";
export { RuntimeRegistry } from "./registry.ts";
export type { RuntimeHandle, StreamFrame, WorkerList } from "./runtime_handle.ts";
export { ConnectionStore, validateNewConnection } from "./connection_store.ts";
export { loadBackendConfig, parseBackendConfig } from "./config.ts";
export { probeRemote } from "./probe.ts";
