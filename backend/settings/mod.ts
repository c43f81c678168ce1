/**
 * What the Backend persists and how it is checked: the config file and its live re-reading,
 * the connection store with its surgical TOML edits, secret references and the endpoint
 * policy. Imports only `shared/`.
 * @module
 */
export {
  type BackendConfig,
  configFileName,
  loadBackendConfig,
  parseBackendConfig,
  type RemoteConfig,
} from "./config.ts";
export { ConfigWatcher } from "./config_watch.ts";
export { ConnectionStore } from "./connection_store.ts";
export {
  assertRuntimeIdParam,
  validateCandidate,
  validateConnectionEdit,
  validateNewConnection,
} from "./connection_input.ts";
export { assertEndpointAllowed, EndpointGuard, type Lookup } from "./endpoint_policy.ts";
export { RemoteEndpoint, type Secret } from "./secret.ts";
export { resolveTokenRef, type TokenRefPolicy } from "./token_ref.ts";
