/**
 * An in-memory {@link EventStore}: same contract as the fs store, nothing
 * survives the process. Useful for tests and throwaway runtimes.
 * @module
 */
import { ApiError, isWorkerId, type WorkerEvent } from "../shared/mod.ts";
import { summarize } from "./log_summary.ts";
import type { EventStore, StoreOpenResult, WorkerRecord } from "./store.ts";

export class MemoryStore implements EventStore {
  readonly kind = "memory";
  #records = new Map<string, WorkerRecord>();
  #logs = new Map<string, WorkerEvent[]>();

  open(): Promise<StoreOpenResult> {
    const workers = [...this.#records.values()].map((record) => ({
      record,
      summary: summarize(this.#logs.get(record.worker_id) ?? []),
    }));
    return Promise.resolve({ workers, diagnostics: [] });
  }

  createWorker(record: WorkerRecord): Promise<void> {
    if (!isWorkerId(record.worker_id)) throw new ApiError("invalid_id", "invalid worker id");
    this.#records.set(record.worker_id, { ...record });
    this.#logs.set(record.worker_id, []);
    return Promise.resolve();
  }

  append(workerId: string, events: WorkerEvent[]): Promise<void> {
    const log = this.#logs.get(workerId);
    if (!log) throw new ApiError("worker_not_found", `worker ${workerId} is not in the store`);
    log.push(...events);
    return Promise.resolve();
  }

  deleteWorker(workerId: string): Promise<void> {
    this.#records.delete(workerId);
    this.#logs.delete(workerId);
    return Promise.resolve();
  }

  read(workerId: string, after: number, limit: number): Promise<WorkerEvent[]> {
    const log = this.#logs.get(workerId) ?? [];
    // seq is the 1-based position in the log, so the page starts at index `after`.
    let i = Math.min(after, log.length);
    while (i > 0 && log[i - 1].seq > after) i--;
    while (i < log.length && log[i].seq <= after) i++;
    return Promise.resolve(log.slice(i, i + limit));
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
