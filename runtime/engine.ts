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

/**
 * A running turn's pause state (issue 17). Engines hold at their own safe points
 * (`wait`) and may react at once to a change (`onChange`, e.g. SIGSTOP a process).
 */
export interface PauseGate {
  readonly paused: boolean;
  /** Resolves once the turn is not paused, or at once when `signal` aborts. */
  wait(signal: AbortSignal): Promise<void>;
  /** Calls `fn` on every pause (`true`) and resume (`false`); returns the unsubscribe. */
  onChange(fn: (paused: boolean) => void): () => void;
}

/** A {@link PauseGate} the Runtime drives; one per turn. */
export class TurnGate implements PauseGate {
  #paused = false;
  #waiters = new Set<() => void>();
  #listeners = new Set<(paused: boolean) => void>();

  get paused(): boolean {
    return this.#paused;
  }

  /** Pauses or resumes; listeners run synchronously, waiters wake on resume. */
  set(paused: boolean): void {
    if (paused === this.#paused) return;
    this.#paused = paused;
    for (const fn of [...this.#listeners]) {
      try {
        fn(paused);
      } catch { /* a faulty listener must not block the others */ }
    }
    if (!paused) {
      const ws = [...this.#waiters];
      this.#waiters.clear();
      for (const w of ws) w();
    }
  }

  wait(signal: AbortSignal): Promise<void> {
    if (!this.#paused || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.#waiters.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.#waiters.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  onChange(fn: (paused: boolean) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }
}

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
  /** The turn's pause state; engines that declare `pause: false` never see it paused. */
  pause?: PauseGate;
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
  /** What the engine can do beyond running turns; `pause: false` → pause answers 501. */
  readonly features?: { pause: boolean };
  /**
   * Runs one turn. When `signal` aborts, the engine stops its work (and any
   * process it started) before it settles; the Runtime records the cancel.
   */
  runTurn(ctx: TurnContext): Promise<TurnResult>;
}
