/**
 * The durable store contract: one append-only event log per worker plus a
 * small worker record. The log is the truth; status is derived from it.
 * @module
 */
import type { Diagnostic, WorkerEvent } from "../shared/mod.ts";
import type { LogSummary } from "./log_summary.ts";

/** What a worker is, apart from its log. Written once at create. */
export interface WorkerRecord {
  worker_id: string;
  profile: string;
  display_name: string;
  created_at: string;
  request_id?: string;
}

/**
 * A worker as found when a store is opened: its record and its log folded into what a start
 * needs (not the events: a start must not cost as much as the history; reads go by seq).
 */
export interface RestoredWorker {
  record: WorkerRecord;
  summary: LogSummary;
}

export interface StoreOpenResult {
  workers: RestoredWorker[];
  diagnostics: Diagnostic[];
}

/**
 * Persistence for a Runtime. Calls for one worker are issued in order by the
 * Runtime; `append` resolves once the events are handed to the OS (they then
 * survive a crash of this process), and appends of one worker resolve in call
 * order. `flush` makes them durable on disk.
 * A write that fails rejects with 507 `store_unavailable` (this append and any
 * queued behind it); nothing of it is kept, and the next append carries the
 * seq after the last one written.
 */
export interface EventStore {
  /** Human name of the store kind, e.g. "memory" or "fs" (never a path). */
  readonly kind: string;
  open(): Promise<StoreOpenResult>;
  createWorker(record: WorkerRecord): Promise<void>;
  append(workerId: string, events: WorkerEvent[]): Promise<void>;
  /**
   * Removes a worker's record and log for good (DELETE of a stopped worker). Atomic: after
   * a crash the worker is either whole or gone. Rejects 507 when the store cannot do it.
   */
  deleteWorker(workerId: string): Promise<void>;
  /** Events with `seq > after`, at most `limit`, in order. */
  read(workerId: string, after: number, limit: number): Promise<WorkerEvent[]>;
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Whether writes currently work; the failure kind (e.g. "ENOSPC") when not. Optional. */
  storeState?(): { writable: boolean; reason?: string };
  /** Tries a small write to refresh {@link storeState}; never rejects. Optional. */
  probe?(): Promise<void>;
}
