/**
 * One worker's live state inside the Runtime and the plain views of it (summary, detail,
 * ack). Kept apart from the Runtime class so the journal and the turn runner share one
 * definition of what a worker is.
 * @module
 */
import {
  type Ack,
  ApiError,
  type TurnOutcome,
  type WorkerDetail,
  type WorkerEventType,
  type WorkerStatus,
  type WorkerSummary,
} from "../shared/mod.ts";
import type { TurnGate } from "./engine.ts";
import type { RestoredWorker, WorkerRecord } from "./store.ts";
import type { Subscription } from "./subscription.ts";

/** An event not yet given a seq: its type and data. */
export type Pending = [WorkerEventType, Record<string, unknown>];

/** Why a turn's AbortSignal fired. */
export type AbortReason = "cancel" | "stop" | "shutdown" | "store" | "output_limit";

/** A worker as the Runtime holds it between requests. */
export interface WorkerState {
  record: WorkerRecord;
  status: WorkerStatus;
  /** Last seq handed out. */
  lastSeq: number;
  /** Last seq persisted and broadcast; subscribers switch to live at this point. */
  publishedSeq: number;
  /**
   * The last append's settlement: resolves (never rejects) once every event
   * recorded so far was written or refused. The store settles one worker's
   * appends in call order, so the last one settling means all have.
   */
  tail: Promise<boolean>;
  /** Set when a write failed; later inputs answer 507 until a write succeeds again. */
  storeError: string | null;
  /** Bumped on each write failure so the appends it refused roll seqs back only once. */
  epoch: number;
  /** Turn ends and statuses to record once the store takes writes again (bounded). */
  deferred: Pending[];
  /** A running attempt to record `deferred`. */
  recovering?: Promise<boolean>;
  turnCount: number;
  lastOutcome: TurnOutcome | null;
  updatedAt: string;
  turn?: { abort: AbortController; done: Promise<void>; gate: TurnGate; number: number };
  subscribers: Set<Subscription>;
  /**
   * Its list entry as JSON text and the fields it was built from (`worker_list.ts` rebuilds
   * it when one of them changed).
   */
  listed?: { record: WorkerRecord; status: WorkerStatus; seq: number; json: string };
}

/** A fresh worker (idle, empty log) for `record`. */
export function newWorkerState(record: WorkerRecord, updatedAt: string): WorkerState {
  return {
    record,
    status: "idle",
    lastSeq: 0,
    publishedSeq: 0,
    tail: Promise.resolve(true),
    storeError: null,
    epoch: 0,
    deferred: [],
    turnCount: 0,
    lastOutcome: null,
    updatedAt,
    subscribers: new Set(),
  };
}

/** The 507 a worker answers while its log cannot be written. */
export function storeUnavailable(w: WorkerState): ApiError {
  return new ApiError(
    "store_unavailable",
    `Worker ${w.record.worker_id}'s log cannot be written now (${
      w.storeError ?? "store unavailable"
    }); reads work, try again once the store has space.`,
  );
}

/** The list view of a worker. */
export function summaryOf(runtimeId: string, w: WorkerState): WorkerSummary {
  return {
    runtime_id: runtimeId,
    worker_id: w.record.worker_id,
    display_name: w.record.display_name,
    profile: w.record.profile,
    status: w.status,
    created_at: w.record.created_at,
    last_seq: w.publishedSeq,
  };
}

/** The detail view of a worker. */
export function detailOf(runtimeId: string, w: WorkerState): WorkerDetail {
  return {
    ...summaryOf(runtimeId, w),
    updated_at: w.updatedAt,
    turn_count: w.turnCount,
    last_turn_outcome: w.lastOutcome,
  };
}

/** The answer of a lifecycle call: status and the last published seq. */
export function ackOf(w: WorkerState): Ack {
  return { worker_id: w.record.worker_id, status: w.status, seq: w.publishedSeq };
}

/**
 * A worker as the store restored it. `repair` holds what must be recorded when it was busy
 * at the last stop: its open turn failed and the worker idle again (null when nothing).
 */
export function restoredState(
  { record, summary }: RestoredWorker,
): { w: WorkerState; repair: Pending[] | null } {
  const w = newWorkerState(record, summary.last_at ?? record.created_at);
  w.lastSeq = w.publishedSeq = summary.last_seq;
  w.status = summary.status;
  if (summary.display_name !== null) w.record = { ...record, display_name: summary.display_name };
  w.turnCount = summary.turn_count;
  w.lastOutcome = summary.last_outcome;
  const openTurn = summary.open_turn;
  if (w.status !== "busy" && w.status !== "paused" && openTurn === null) return { w, repair: null };
  const repair: Pending[] = [];
  if (openTurn !== null) {
    repair.push(["turn.failed", {
      turn: openTurn,
      reason: "the runtime restarted while this turn was running",
    }]);
    w.lastOutcome = "failed";
  }
  if (w.status !== "stopped") {
    w.status = "idle";
    repair.push(["worker.status", { status: "idle" }]);
  }
  return { w, repair };
}
