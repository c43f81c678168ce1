/**
 * Writes workers' events to the store in seq order and keeps what the store refused:
 * a failed write rolls seqs back, marks the worker store-unavailable and aborts its turn;
 * turn ends and statuses wait (bounded) and are retried every second until the store takes
 * writes again (DESIGN §11). The Runtime decides what to record; this decides how.
 * @module
 */
import {
  ApiError,
  type Diagnostic,
  diagnostic,
  TRANSCRIPT_LIMIT_MAX,
  type WorkerEvent,
} from "../shared/mod.ts";
import type { EventStore } from "./store.ts";
import type { AbortReason, Pending, WorkerState } from "./worker_state.ts";

/** Deferred events kept per worker while the store refuses writes (oldest and newest). */
const DEFERRED_MAX = 32;
/** Pause between retries of deferred writes (and store probes) while the store refuses writes. */
const STORE_RETRY_MS = 1_000;

/** The store writes of one Runtime, with the retry of what waited for space. */
export class WorkerJournal {
  readonly #store: EventStore;
  /** Workers with events waiting for the store; retried by one timer. */
  readonly #waiting = new Set<WorkerState>();
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  /** Told after events are published (the worker list may have changed: its change feed). */
  onPublish: () => void = () => {};

  constructor(store: EventStore) {
    this.#store = store;
  }

  /**
   * Gives `items` the next seqs and appends them in one store call (all or
   * nothing), then publishes them in seq order. Resolves true once written,
   * false when the store refused them; never rejects. While the worker's store
   * is failing nothing is tried (false at once, no seq used).
   *
   * On a failure the worker's seqs roll back to the last one written (the
   * store refuses everything queued behind a failed write), the worker is
   * marked store-unavailable and its running turn is aborted.
   */
  append(w: WorkerState, items: Pending[]): Promise<boolean> {
    if (w.storeError !== null) return Promise.resolve(false);
    const at = new Date().toISOString();
    const events: WorkerEvent[] = items.map(([type, data]) => ({
      seq: ++w.lastSeq,
      worker_id: w.record.worker_id,
      at,
      type,
      data,
    }));
    w.updatedAt = at;
    const epoch = w.epoch;
    // The store settles appends for one worker in call order, so publishing in
    // `.then` keeps seq order while letting the store batch concurrent appends.
    const settled = this.#store.append(w.record.worker_id, events).then(() => {
      w.publishedSeq = events[events.length - 1].seq;
      for (const e of events) for (const s of w.subscribers) s.push(e);
      this.onPublish();
      return true;
    }, (e) => {
      if (epoch === w.epoch) {
        w.epoch++;
        w.lastSeq = w.publishedSeq;
        w.storeError = e instanceof ApiError ? e.message : "the store refused a write";
        w.turn?.abort.abort("store" satisfies AbortReason);
        this.scheduleRetry();
      }
      return false;
    });
    w.tail = settled;
    return settled;
  }

  /** Appends `items`, or keeps them to record once the store takes writes again. */
  async recordOrDefer(w: WorkerState, items: Pending[]): Promise<void> {
    if (await this.append(w, items)) return;
    this.defer(w, items);
  }

  /** Keeps `items` to record once the store takes writes again. */
  defer(w: WorkerState, items: Pending[]): void {
    w.deferred.push(...items);
    // Bounded: keep the oldest (the turn's end) and the newest statuses.
    if (w.deferred.length > DEFERRED_MAX) w.deferred.splice(2, w.deferred.length - DEFERRED_MAX);
    this.#waiting.add(w);
    this.scheduleRetry();
  }

  /** The worker is gone: nothing of it is retried. */
  forget(w: WorkerState): void {
    this.#waiting.delete(w);
  }

  /**
   * While writes fail, retries every second: probes the store (so its state
   * in diagnostics clears once space returns) and records what workers
   * deferred (a turn's end, a stop), without waiting for the next input.
   */
  scheduleRetry(): void {
    if (this.#retryTimer !== undefined || this.#stopped) return;
    this.#retryTimer = setTimeout(async () => {
      try {
        await this.#store.probe?.();
        for (const w of [...this.#waiting]) {
          if (this.#stopped) return;
          if (w.status === "busy" || w.status === "paused") continue; // its turn is still ending
          if (await this.recover(w)) this.#waiting.delete(w);
        }
      } catch { /* never rejects: recover and probe report through state */ }
      this.#retryTimer = undefined;
      const unwritable = this.#store.storeState?.().writable === false;
      if (this.#waiting.size > 0 || unwritable) this.scheduleRetry();
    }, STORE_RETRY_MS);
  }

  /** Tries to record what waited for the store; true once the worker's log takes writes. */
  recover(w: WorkerState): Promise<boolean> {
    if (w.storeError === null && w.deferred.length === 0) return Promise.resolve(true);
    w.recovering ??= (async () => {
      await w.tail;
      w.storeError = null; // try once more
      const items = w.deferred.splice(0);
      if (items.length === 0) return true;
      if (await this.append(w, items)) {
        this.#waiting.delete(w);
        return true;
      }
      w.deferred.unshift(...items);
      return false;
    })().finally(() => w.recovering = undefined);
    return w.recovering;
  }

  /**
   * `store_unavailable` while writes fail (a start on a full disk serves reads and says so),
   * else null. A store that reports its state is believed; otherwise each worker's last write.
   */
  storeDiagnostic(workers: Iterable<WorkerState>): Diagnostic | null {
    const state = this.#store.storeState?.();
    const waiting = this.#waiting.size;
    const all = [...workers];
    const failing = state
      ? (state.writable ? 0 : 1)
      : all.filter((w) => w.storeError !== null).length;
    if (failing === 0 && waiting === 0) return null;
    const reason = state?.reason ?? all.find((w) => w.storeError)?.storeError ?? "write failed";
    return diagnostic(
      "store_unavailable",
      `The store does not take writes (${reason}); reads work, inputs answer 507 until ` +
        `space returns${waiting ? ` (${waiting} worker(s) waiting to record)` : ""}.`,
      "error",
    );
  }

  /** No more timed retries (the Runtime is stopping; it makes one last `recover` itself). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  /** The persisted events with `seq < beforeSeq`, read page by page from the store. */
  async historyBefore(workerId: string, beforeSeq: number): Promise<WorkerEvent[]> {
    const out: WorkerEvent[] = [];
    let after = 0;
    while (after < beforeSeq - 1) {
      const page = await this.#store.read(workerId, after, TRANSCRIPT_LIMIT_MAX);
      if (page.length === 0) break;
      for (const e of page) if (e.seq < beforeSeq) out.push(e);
      after = page[page.length - 1].seq;
    }
    return out;
  }
}
