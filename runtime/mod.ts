/**
 * worker-runtime as a library. Embedding it pulls in no HTTP framework: the
 * REST/WS server lives in `server.ts` and is imported only by processes that serve.
 * @module
 */
export { Runtime } from "./runtime.ts";
export { type RuntimeOptions } from "./runtime_options.ts";
export { type CloseReason, Subscription, type SubscriptionOptions } from "./subscription.ts";
export type { EventStore, RestoredWorker, StoreOpenResult, WorkerRecord } from "./store.ts";
export type { LogSummary } from "./log_summary.ts";
export type { Engine, OutputChunk, TurnContext, TurnResult } from "./engine.ts";
export { MemoryStore } from "./memory_store.ts";
export { FsStore, type FsStoreHooks, type FsStoreOptions } from "./fs_store.ts";
export { EchoEngine, type EchoOptions } from "./echo_engine.ts";
export { CommandEngine } from "./command_engine.ts";
export {
  BUILTIN_PROFILES,
  engineFor,
  parseRuntimeConfig,
  type ProfileSpec,
  type RuntimeConfig,
} from "./config.ts";
