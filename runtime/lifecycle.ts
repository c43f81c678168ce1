/**
 * The lifecycle steps of one worker beyond input (DESIGN §4): pause and resume a running
 * turn, restore a stopped worker. Each takes the worker the Runtime looked up and checked,
 * and records its step through the journal.
 * @module
 */
import { type Ack, ApiError, type RestoreResult } from "../shared/mod.ts";
import type { WorkerJournal } from "./worker_journal.ts";
import { ackOf, storeUnavailable, type WorkerState } from "./worker_state.ts";

/** Holds the running turn (`turn.paused`); idempotent while paused, 409 without a turn. */
export async function pauseTurn(w: WorkerState, journal: WorkerJournal): Promise<Ack> {
  await w.tail; // an input being accepted starts its turn first
  const t = w.turn;
  if (w.status === "paused") return ackOf(w);
  if (w.status !== "busy" || !t || t.abort.signal.aborted) {
    throw new ApiError(
      "worker_not_busy",
      `Worker ${w.record.worker_id} has no running turn to pause.`,
    );
  }
  if (w.storeError !== null) throw storeUnavailable(w);
  t.gate.set(true);
  w.status = "paused";
  await journal.recordOrDefer(w, [
    ["turn.paused", { turn: t.number }],
    ["worker.status", { status: "paused" }],
  ]);
  return ackOf(w);
}

/** Continues a paused turn (`turn.resumed`); idempotent while busy, 409 otherwise. */
export async function resumeTurn(w: WorkerState, journal: WorkerJournal): Promise<Ack> {
  await w.tail;
  const t = w.turn;
  if (w.status === "busy" && t) return ackOf(w);
  if (w.status !== "paused" || !t) {
    throw new ApiError("worker_not_paused", `Worker ${w.record.worker_id} is not paused.`);
  }
  w.status = "busy";
  // Seqs are handed out now, so the resume precedes any output the engine makes next.
  const recorded = journal.recordOrDefer(w, [
    ["turn.resumed", { turn: t.number }],
    ["worker.status", { status: "busy" }],
  ]);
  t.gate.set(false);
  await recorded;
  return ackOf(w);
}

/**
 * Reopens a stopped worker as idle (`worker.restored`); seq continues. With `dryRun` only
 * checks: 409 `worker_not_stopped`, or 409 `profile_not_found` when `profileKnown` is false.
 */
export async function restoreStopped(
  w: WorkerState,
  profileKnown: boolean,
  dryRun: boolean,
  journal: WorkerJournal,
): Promise<RestoreResult> {
  const id = w.record.worker_id;
  await w.tail;
  if (w.status !== "stopped") {
    throw new ApiError(
      "worker_not_stopped",
      `Worker ${id} is ${w.status}; only a stopped worker can be restored.`,
    );
  }
  if (!profileKnown) {
    throw new ApiError(
      "profile_not_found",
      `Worker ${id} cannot be restored: its profile "${w.record.profile}" is no ` +
        `longer defined in this runtime's config.`,
    );
  }
  if (dryRun) return { ack: ackOf(w), dry_run: true };
  if (w.storeError !== null) throw storeUnavailable(w);
  w.status = "idle";
  const ok = await journal.append(w, [
    ["worker.restored", { profile: w.record.profile }],
    ["worker.status", { status: "idle" }],
  ]);
  if (!ok) {
    if (w.status === "idle") w.status = "stopped";
    throw storeUnavailable(w);
  }
  return { ack: ackOf(w), dry_run: false };
}
