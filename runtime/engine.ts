/**
 * The engine contract: what runs a turn. A profile names an engine and its
 * settings; callers only ever name the profile.
 * @module
 */
import type { WorkerEvent } from "../shared/mod.ts";

/** One chunk of output from a turn. */
export interface OutputChunk {
  text: string;
  stream?: "stdout" | "stderr";
}

/** Event types an engine may record itself (beyond output), e.g. the `openai` engine's tool use. */
export type EngineEventType = "tool.call" | "tool.result";

export interface TurnContext {
  input: string;
  /** Aborted when the turn is cancelled or the runtime shuts down. */
  signal: AbortSignal;
  /** Records an `output.delta`; awaiting it applies back-pressure from the store. */
  emit(chunk: OutputChunk): Promise<void>;
  /** The worker running this turn (engines that keep per-worker state key it by this). */
  workerId?: string;
  /** Records an engine event (`tool.call`/`tool.result`); resolves once it is persisted. */
  record?(type: EngineEventType, data: Record<string, unknown>): Promise<void>;
  /**
   * The worker's persisted log before this turn's `input.accepted`: how an engine that
   * keeps a conversation rebuilds it, also after a restart (the log is the only memory).
   */
  history?(): Promise<WorkerEvent[]>;
}

/**
 * How a turn ended when it was not cancelled. `data` is merged into the
 * `turn.completed`/`turn.failed` payload (e.g. `usage`).
 */
export type TurnResult =
  | { outcome: "completed"; exit_code?: number; data?: Record<string, unknown> }
  | { outcome: "failed"; reason: string; exit_code?: number; data?: Record<string, unknown> };

/** What the Runtime hands to every engine it builds. */
export interface EngineEnv {
  /** Folder under which each worker of an engine with tools gets its own workspace folder. */
  workspaceRoot?: string;
}

export interface Engine {
  /**
   * Runs one turn. When `signal` aborts, the engine stops its work (and any
   * process it started) before it settles; the Runtime records the cancel.
   */
  runTurn(ctx: TurnContext): Promise<TurnResult>;
}
