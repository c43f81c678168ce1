/**
 * How a Runtime is opened: its identity, store, profiles and limits (DESIGN §11). Apart
 * from the Runtime class so the CLI and tests read the defaults without the class.
 * @module
 */
import type { ProfileSpec } from "./config.ts";
import type { EventStore } from "./store.ts";

export interface RuntimeOptions {
  runtimeId: string;
  displayName?: string;
  store: EventStore;
  /** Profiles from the Runtime's own config; `echo` is always there. */
  profiles?: Record<string, ProfileSpec>;
  defaultProfile?: string;
  /** Live events a subscriber may have queued before it is closed as lagging. */
  subscriberQueueMax?: number;
  /** Workers this runtime holds at most; creating more answers 429 `runtime_at_capacity`. */
  maxWorkers?: number;
  /** Output bytes one turn may produce unless its profile says otherwise (`max_output_bytes`). */
  maxOutputBytes?: number;
  /** Folder that holds one workspace folder per worker (engine `openai` tools act only there). */
  workspaceRoot?: string;
}

/** Default cap on workers per runtime. */
export const MAX_WORKERS_DEFAULT = 10_000;
/** Default per-turn output cap (DESIGN §11): 8 MiB. */
export const MAX_OUTPUT_BYTES_DEFAULT = 8 * 1024 * 1024;
