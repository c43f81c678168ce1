/**
 * One turn of a worker: runs the engine, records its output (nothing while paused, nothing
 * past the output limit) and records how the turn ended — completed, failed, or cancelled
 * and why. The Runtime starts turns; this is what happens inside one.
 * @module
 */
import type { Engine, OutputChunk, TurnGate, TurnResult } from "./engine.ts";
import type { WorkerJournal } from "./worker_journal.ts";
import type { AbortReason, Pending, WorkerState } from "./worker_state.ts";
import type { TurnOutcome } from "../shared/mod.ts";

/** What a turn needs from its Runtime. */
export interface TurnDeps {
  engine: Engine;
  /** Output bytes one turn may produce before it fails with `output_limit`. */
  maxOutput: number;
  journal: WorkerJournal;
}

/** One running turn's inputs. */
export interface TurnStart {
  turn: number;
  text: string;
  signal: AbortSignal;
  /** Seq of the accepted input: the history the engine sees ends before it. */
  acceptedSeq: number;
  gate: TurnGate;
}

/** Runs the turn to its end and records the end; never rejects. */
export async function runTurn(w: WorkerState, t: TurnStart, ctx: TurnDeps): Promise<void> {
  const { turn, text, signal, gate } = t;
  const { journal } = ctx;
  // Let input() return its ack before the engine starts producing output.
  await Promise.resolve();
  const enc = new TextEncoder();
  let outputBytes = 0;
  let result: TurnResult;
  try {
    result = await ctx.engine.runTurn({
      input: text,
      signal,
      pause: gate,
      emit: async (chunk: OutputChunk) => {
        // Nothing is recorded while paused, whatever the engine does meanwhile.
        while (gate.paused && !signal.aborted) await gate.wait(signal);
        if (signal.aborted) return;
        outputBytes += enc.encode(chunk.text).length;
        if (outputBytes > ctx.maxOutput) {
          w.turn?.abort.abort("output_limit" satisfies AbortReason);
          return;
        }
        const data: Record<string, unknown> = { text: chunk.text };
        if (chunk.stream) data.stream = chunk.stream;
        // A failed write aborts the turn (see WorkerJournal.append); emit never rejects.
        await journal.append(w, [["output.delta", data]]);
      },
      workerId: w.record.worker_id,
      record: async (type, data) => {
        while (gate.paused && !signal.aborted) await gate.wait(signal);
        if (signal.aborted) return;
        // Like emit: a failed write aborts the turn; this never rejects.
        await journal.append(w, [[type, data]]);
      },
      history: () => journal.historyBefore(w.record.worker_id, t.acceptedSeq),
    });
  } catch (_e) {
    result = { outcome: "failed", reason: "engine error" };
  }
  const why = signal.aborted ? signal.reason as AbortReason : undefined;
  const { end, outcome } = turnEnd(turn, why, result);
  w.lastOutcome = outcome;
  w.turn = undefined;
  const ends: Pending[] = [end];
  const toIdle = w.status !== "stopped";
  if (toIdle) ends.push(["worker.status", { status: "idle" }]);
  // The worker reads idle once its turn's end is in the log (or waits for the store).
  await journal.recordOrDefer(w, ends);
  if (toIdle && (w.status === "busy" || w.status === "paused")) w.status = "idle";
}

/** The event that ends a turn, from why it was aborted (if it was) and the engine's result. */
export function turnEnd(
  turn: number,
  why: AbortReason | undefined,
  result: TurnResult,
): { end: Pending; outcome: TurnOutcome } {
  if (why === "store" || why === "output_limit") {
    return {
      end: ["turn.failed", { turn, reason: why === "store" ? "store_unavailable" : why }],
      outcome: "failed",
    };
  }
  if (why) {
    const reason = why === "cancel"
      ? "cancelled"
      : why === "stop"
      ? "worker stopped"
      : "runtime stopping";
    return { end: ["turn.cancelled", { turn, reason }], outcome: "cancelled" };
  }
  const exit = result.exit_code !== undefined ? { exit_code: result.exit_code } : {};
  if (result.outcome === "completed") {
    return { end: ["turn.completed", { ...result.data, turn, ...exit }], outcome: "completed" };
  }
  return {
    end: ["turn.failed", { ...result.data, turn, reason: result.reason, ...exit }],
    outcome: "failed",
  };
}
