/**
 * The engine contract: what runs a turn. A profile names an engine and its
 * settings; callers only ever name the profile.
 * @module
 */

/** One chunk of output from a turn. */
export interface OutputChunk {
  text: string;
  stream?: "stdout" | "stderr";
}

export interface TurnContext {
  input: string;
  /** Aborted when the turn is cancelled or the runtime shuts down. */
  signal: AbortSignal;
  /** Records an `output.delta`; awaiting it applies back-pressure from the store. */
  emit(chunk: OutputChunk): Promise<void>;
}

/** How a turn ended when it was not cancelled. */
export type TurnResult =
  | { outcome: "completed"; exit_code?: number }
  | { outcome: "failed"; reason: string; exit_code?: number };

export interface Engine {
  /**
   * Runs one turn. When `signal` aborts, the engine stops its work (and any
   * process it started) before it settles; the Runtime records the cancel.
   */
  runTurn(ctx: TurnContext): Promise<TurnResult>;
}
