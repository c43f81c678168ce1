/**
 * What a Runtime needs of a worker's log when it starts, folded event by event: last seq and
 * time, status, current name, turn count, a turn left open, the last turn's outcome. Stores
 * keep it current as they write (the fs store persists it beside the log), so a start reads
 * this instead of every event. The log stays the truth: a summary is derived from it and
 * rebuilt from it whenever in doubt.
 * @module
 */
import { z } from "zod";
import {
  type TurnOutcome,
  TurnOutcomeSchema,
  type WorkerEvent,
  type WorkerStatus,
  WorkerStatusSchema,
} from "../shared/mod.ts";

/** A worker's log, folded: everything a restart needs without reading the events. */
export interface LogSummary {
  /** Seq of the last event (0 for an empty log). */
  last_seq: number;
  /** `at` of the last event; null for an empty log. */
  last_at: string | null;
  /** Status as recorded by `worker.status` / `worker.stopped` (idle before any). */
  status: WorkerStatus;
  /** The name of the last `worker.renamed`; null when never renamed. */
  display_name: string | null;
  turn_count: number;
  /** A turn started and not ended (the runtime stopped mid-turn); null when none. */
  open_turn: number | null;
  last_outcome: TurnOutcome | null;
}

/** The persisted form (fs store index), checked before it is believed. */
export const LogSummarySchema = z.object({
  last_seq: z.number().int().nonnegative(),
  last_at: z.string().nullable(),
  status: WorkerStatusSchema,
  display_name: z.string().nullable(),
  turn_count: z.number().int().nonnegative(),
  open_turn: z.number().int().positive().nullable(),
  last_outcome: TurnOutcomeSchema.nullable(),
});

/** The summary of an empty log. */
export function emptySummary(): LogSummary {
  return {
    last_seq: 0,
    last_at: null,
    status: "idle",
    display_name: null,
    turn_count: 0,
    open_turn: null,
    last_outcome: null,
  };
}

/** Folds one event (the next in seq order) into `s`, in place. */
export function foldEvent(s: LogSummary, e: WorkerEvent): void {
  s.last_seq = e.seq;
  s.last_at = e.at;
  switch (e.type) {
    case "worker.status": {
      const status = WorkerStatusSchema.safeParse(e.data.status);
      if (status.success) s.status = status.data;
      break;
    }
    case "worker.stopped":
      s.status = "stopped";
      break;
    case "worker.renamed":
      if (typeof e.data.display_name === "string") s.display_name = e.data.display_name;
      break;
    case "turn.started": {
      const n = Number(e.data.turn);
      s.open_turn = Number.isSafeInteger(n) && n > 0 ? n : s.turn_count + 1;
      s.turn_count = Math.max(s.turn_count, s.open_turn);
      break;
    }
    case "turn.completed":
    case "turn.failed":
    case "turn.cancelled":
      s.open_turn = null;
      s.last_outcome = e.type.slice(5) as TurnOutcome;
      break;
  }
}

/** The summary of a whole log (stores that hold their events in memory). */
export function summarize(events: readonly WorkerEvent[]): LogSummary {
  const s = emptySummary();
  for (const e of events) foldEvent(s, e);
  return s;
}
