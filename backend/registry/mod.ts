/**
 * Every runtime the Backend routes to: the registry, the embedded and remote handles, the
 * remote client, the event follower and the shared event streams (one upstream per worker for
 * every browser), the probe and the capability tokens it mints. Imports
 * `settings/` and `shared/`, never `http/`.
 * @module
 */
export { type BackendKey, CapabilityMinter, loadOrCreateBackendKey } from "./capability.ts";
export { EmbeddedRuntimeHandle } from "./embedded_handle.ts";
export { JsonBody } from "./json_body.ts";
export { workerListBody } from "./worker_list_body.ts";
export { probeRemote } from "./probe.ts";
export { RuntimeRegistry } from "./registry.ts";
export { DEFAULT_TIMEOUT_MS } from "./remote_client.ts";
export { DEFAULT_HEALTH_INTERVAL_MS } from "./health.ts";
export { RemoteRuntimeHandle } from "./remote_handle.ts";
export { type RuntimeHandle, type StreamFrame, type WorkerList } from "./runtime_handle.ts";
export { type EventSink, type SubscriptionEnd } from "./event_fanout.ts";
