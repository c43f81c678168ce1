/**
 * The built-in deterministic engine: answers with the input, streamed in chunks.
 * @module
 */
import type { Engine, TurnContext, TurnResult } from "./engine.ts";
import { abortableSleep } from "../shared/abortable_sleep.ts";

export interface EchoOptions {
  /** Characters per `output.delta` (default 8). */
  chunk_chars?: number;
  /** Pause between chunks in ms (default 0); lets tests observe a busy worker. */
  delay_ms?: number;
}

export class EchoEngine implements Engine {
  readonly features = { pause: true };
  #chunk: number;
  #delay: number;
  constructor(opts: EchoOptions = {}) {
    this.#chunk = Math.max(1, opts.chunk_chars ?? 8);
    this.#delay = Math.max(0, opts.delay_ms ?? 0);
  }

  async runTurn(ctx: TurnContext): Promise<TurnResult> {
    const chars = [...ctx.input]; // code points, so a chunk never splits a character
    for (let i = 0; i < chars.length; i += this.#chunk) {
      if (ctx.signal.aborted) return { outcome: "failed", reason: "cancelled" };
      if (this.#delay > 0 && i > 0) await abortableSleep(this.#delay, ctx.signal);
      // Paused: no chunk until resumed (or cancelled).
      await ctx.pause?.wait(ctx.signal);
      if (ctx.signal.aborted) return { outcome: "failed", reason: "cancelled" };
      await ctx.emit({ text: chars.slice(i, i + this.#chunk).join("") });
    }
    return { outcome: "completed" };
  }
}
