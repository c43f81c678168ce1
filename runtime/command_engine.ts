/**
 * The `command` engine: runs a configured argv once per turn, with the turn's
 * input on stdin, and streams stdout/stderr back as output chunks. The child
 * runs in its own process group so that cancel, timeout and end-of-turn
 * cleanup can reach every process it started, not only the one we spawned.
 * @module
 */

import type { Engine, OutputChunk, TurnContext, TurnResult } from "./engine.ts";

/** Settings of a `command` profile. They come from the Runtime's config, never from a caller. */
export interface CommandEngineOptions {
  /** Program and arguments; `argv[0]` is looked up on PATH. */
  argv: string[];
  /** Wall-clock limit of one turn; default 10 minutes. */
  timeout_ms?: number;
  /** Working directory of the child; default the Runtime's. */
  cwd?: string;
  /** Extra environment for the child (merged over the Runtime's). */
  env?: Record<string, string>;
  /** How long SIGTERM gets before SIGKILL on cancel/timeout; default 2 s. */
  kill_grace_ms?: number;
  /** Called with the child's pid (= its process-group id) right after spawn; for tests. */
  onSpawn?: (pid: number) => void;
}

const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000;
const DEFAULT_KILL_GRACE_MS = 2000;
/**
 * Upper bound on waiting for stdout/stderr to end once the group was killed:
 * a process that left the group (e.g. via setsid) may keep the pipes open.
 */
const MIN_DRAIN_MS = 2000;

type StopReason = "cancelled" | "timeout" | "error";

/** A timer that can be raced and must be cleared (keeps the test sanitizers happy). */
function delay(ms: number): { promise: Promise<void>; clear(): void } {
  let id: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<void>((resolve) => {
    id = setTimeout(resolve, ms);
  });
  return { promise, clear: () => clearTimeout(id) };
}

/**
 * Runs one process (group) per turn. Why a process group: shells and tools
 * start helpers of their own, and a cancel that only killed the direct child
 * would leave those running and holding the output pipes.
 */
export class CommandEngine implements Engine {
  readonly features = { pause: true };
  readonly #argv: string[];
  readonly #timeoutMs: number;
  readonly #killGraceMs: number;
  readonly #cwd?: string;
  readonly #env?: Record<string, string>;
  readonly #onSpawn?: (pid: number) => void;

  constructor(options: CommandEngineOptions) {
    if (options.argv.length === 0) throw new Error("command engine needs a non-empty argv");
    this.#argv = [...options.argv];
    this.#timeoutMs = options.timeout_ms ?? DEFAULT_TIMEOUT_MS;
    this.#killGraceMs = options.kill_grace_ms ?? DEFAULT_KILL_GRACE_MS;
    this.#cwd = options.cwd;
    this.#env = options.env ? { ...options.env } : undefined;
    this.#onSpawn = options.onSpawn;
  }

  async runTurn(ctx: TurnContext): Promise<TurnResult> {
    if (ctx.signal.aborted) return { outcome: "failed", reason: "cancelled" };

    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(this.#argv[0], {
        args: this.#argv.slice(1),
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
        // Own session and process group (pgid === pid), so -pid reaches all of it.
        detached: true,
        cwd: this.#cwd,
        env: this.#env,
      }).spawn();
    } catch {
      // The error text carries local paths; the reason must not.
      return { outcome: "failed", reason: "command could not be started" };
    }
    const pid = child.pid;
    try {
      this.#onSpawn?.(pid);
    } catch {
      // A faulty observer must not leave the child unmanaged.
    }

    const killGroup = (signal: Deno.Signal) => {
      try {
        if (Deno.build.os === "windows") child.kill(signal);
        else Deno.kill(-pid, signal);
      } catch {
        // ESRCH/NotFound: the group is already gone. Nothing else is actionable here.
      }
    };

    // --- stop requests: cancel, timeout, or the emit sink failing ---
    let stopReason: StopReason | null = null;
    let emitError: unknown = undefined;
    let onStop!: () => void;
    const stopRequested = new Promise<void>((resolve) => (onStop = resolve));
    const stop = (reason: StopReason) => {
      if (stopReason !== null) return;
      stopReason = reason;
      onStop();
    };
    const onAbort = () => stop("cancelled");
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    // The timeout clock runs only while the turn is not paused.
    let timeLeft = this.#timeoutMs;
    let clockStart = Date.now();
    let timeoutTimer: ReturnType<typeof setTimeout> | undefined = setTimeout(
      () => stop("timeout"),
      timeLeft,
    );
    // Pause stops the whole group (SIGSTOP), resume continues it (SIGCONT).
    const onPause = (paused: boolean) => {
      if (stopReason !== null) return;
      if (paused) {
        killGroup("SIGSTOP");
        clearTimeout(timeoutTimer);
        timeoutTimer = undefined;
        timeLeft = Math.max(0, timeLeft - (Date.now() - clockStart));
      } else {
        killGroup("SIGCONT");
        clockStart = Date.now();
        timeoutTimer = setTimeout(() => stop("timeout"), timeLeft);
      }
    };
    const offPause = ctx.pause?.onChange(onPause);
    if (ctx.pause?.paused) onPause(true); // paused before the child started

    // --- stdin: written concurrently so a child that answers before reading cannot deadlock us ---
    const stdinWriter = child.stdin.getWriter();
    void (async () => {
      try {
        await stdinWriter.write(new TextEncoder().encode(ctx.input));
        await stdinWriter.close();
      } catch {
        // EPIPE and friends: the child exited (or closed stdin) without reading it all.
      }
    })();

    // --- stdout/stderr: streamed as they arrive; emits are serialized to keep order ---
    let closed = false; // once set, nothing more is emitted for this turn
    let emitChain: Promise<void> = Promise.resolve();
    const emit = (chunk: OutputChunk): Promise<void> => {
      const next = emitChain.then(() => (closed ? undefined : ctx.emit(chunk)));
      emitChain = next.catch(() => {});
      return next;
    };
    const readers: ReadableStreamDefaultReader<Uint8Array>[] = [];
    const pump = async (stream: ReadableStream<Uint8Array>, name: "stdout" | "stderr") => {
      const reader = stream.getReader();
      readers.push(reader);
      const decoder = new TextDecoder("utf-8"); // streaming: never splits a character
      const send = async (text: string) => {
        if (text === "" || closed || emitError !== undefined) return;
        try {
          await emit({ text, stream: name });
        } catch (err) {
          if (emitError === undefined) emitError = err;
          stop("error");
        }
      };
      try {
        while (true) {
          const { value, done } = await reader.read();
          if (done) break;
          await send(decoder.decode(value, { stream: true }));
        }
      } catch {
        // Read failure or cancelled reader: the stream is over for us.
      }
      await send(decoder.decode());
    };
    const pumps = Promise.all([pump(child.stdout, "stdout"), pump(child.stderr, "stderr")]);

    // --- wait for the leader to exit, or terminate the group when asked to stop ---
    let status = await Promise.race([child.status, stopRequested.then(() => null)]);
    offPause?.();
    if (status === null) {
      killGroup("SIGTERM");
      // A stopped (paused) group only acts on SIGTERM once continued.
      killGroup("SIGCONT");
      const grace = delay(this.#killGraceMs);
      status = await Promise.race([child.status, grace.promise.then(() => null)]);
      grace.clear();
      if (status === null) {
        killGroup("SIGKILL");
        status = await child.status;
      }
    }
    const stoppedWhileRunning: StopReason | null = stopReason;

    // The leader is gone; whatever is left of its group goes too (background jobs would
    // otherwise outlive the turn and keep the pipes open).
    killGroup("SIGKILL");

    // --- drain the output, bounded ---
    const drain = delay(Math.max(this.#killGraceMs, MIN_DRAIN_MS));
    const drained = await Promise.race([pumps.then(() => true), drain.promise.then(() => false)]);
    drain.clear();
    closed = true;
    if (!drained) {
      for (const reader of readers) reader.cancel().catch(() => {});
    }
    clearTimeout(timeoutTimer);
    ctx.signal.removeEventListener("abort", onAbort);
    // stdin is normally settled by now (the pipe broke when the group died).
    stdinWriter.abort().catch(() => {});

    if (ctx.signal.aborted) return { outcome: "failed", reason: "cancelled" };
    if (emitError !== undefined) throw emitError;
    if (stoppedWhileRunning === "timeout") {
      return { outcome: "failed", reason: `turn timed out after ${this.#timeoutMs} ms` };
    }
    if (status.success) return { outcome: "completed", exit_code: 0 };
    if (status.signal !== null) {
      return { outcome: "failed", reason: `terminated by signal ${status.signal}` };
    }
    return { outcome: "failed", reason: `exit code ${status.code}`, exit_code: status.code };
  }
}
