/**
 * The Workspace Backend's public surface: `createBackend` gives the `/api` app with its
 * guards, the `RuntimeRegistry` and the `ConnectionStore`. Inside, three folders by concern:
 * `http/` (the browser-facing surface) → `registry/` (every runtime routed to) →
 * `settings/` (what is persisted). Pages are mounted by the composition root
 * (`../workspace.ts`); nothing here imports `web/`.
 * @module
 */
export {
  AdminSessions,
  assertListenAllowed,
  type Backend,
  BACKEND_VERSION,
  type BackendOptions,
  createBackend,
  log,
  LoginLimiter,
} from "./http/mod.ts";
export { loadOrCreateBackendKey, probeRemote, RuntimeRegistry } from "./registry/mod.ts";
export type { RuntimeHandle, StreamFrame, WorkerList } from "./registry/mod.ts";
export {
  ConnectionStore,
  loadBackendConfig,
  parseBackendConfig,
  validateNewConnection,
} from "./settings/mod.ts";
