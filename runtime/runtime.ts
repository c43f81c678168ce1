/**
 * The Runtime: hosts Workers, runs their turns through profile engines, and
 * records everything as one durable, per-worker, strictly ordered event log.
 * HTTP servers and the Backend's embedded registry entry are thin layers over
 * this class; worker semantics live here only.
 * @module
 */
import {
  type Ack,
  ApiError,
  type CreateWorkerRequest,
  type Diagnostic,
  diagnostic,
  isWorkerId,
  LIFECYCLE_OPERATIONS,
  newWorkerId,
  OPERATIONS,
  PROTOCOL_NAME,
  PROTOCOL_VERSION,
  type RestoreResult,
  type RuntimeSummary,
  TRANSCRIPT_LIMIT_DEFAULT,
  TRANSCRIPT_LIMIT_MAX,
  type TranscriptPage,
  type TurnOutcome,
  type WorkerCounts,
  type WorkerDetail,
  type WorkerEvent,
  type WorkerEventType,
  type WorkerStatus,
  type WorkerSummary,
} from "../shared/mod.ts";
import { BUILTIN_PROFILES, engineFor, type ProfileSpec } from "./config.ts";
import { type Engine, type OutputChunk, TurnGate, type TurnResult } from "./engine.ts";
import type { EventStore, RestoredWorker, WorkerRecord } from "./store.ts";
import { Subscription, type SubscriptionOptions } from "./subscription.ts";

export interface RuntimeOptions {
  runtimeId: string;
  displayName?: string;
  store: EventStore;
  /** Profiles from the Runtime's own config; `echo` is always there. */
  profiles?: Record<string, ProfileSpec>;
  defaultProfile?: string;
  /** Live events a subscriber may have queued before it is closed as lagging. */
  subscriberQueueMax?: number;
  /** Workers this runtime holds at most; creating more answers 429 `runtime_at_capacity`. */
  maxWorkers?: number;
  /** Output bytes one turn may produce unless its profile says otherwise (`max_output_bytes`). */
  maxOutputBytes?: number;
  /** Folder that holds one workspace folder per worker (engine `openai` tools act only there). */
  workspaceRoot?: string;
}

/** Default cap on workers per runtime. */
export const MAX_WORKERS_DEFAULT = 10_000;
/** Default per-turn output cap (DESIGN §11): 8 MiB. */
export const MAX_OUTPUT_BYTES_DEFAULT = 8 * 1024 * 1024;
/** Events waiting for the store to take writes again, per worker (turn ends and statuses only). */
const DEFERRED_MAX = 32;
/** Pause between retries of deferred writes (and store probes) while the store refuses writes. */
const STORE_RETRY_MS = 1_000;

/** An event not yet given a seq: its type and data. */
type Pending = [WorkerEventType, Record<string, unknown>];

interface WorkerState {
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
}

/** Why a turn's AbortSignal fired. */
type AbortReason = "cancel" | "stop" | "shutdown" | "store" | "output_limit";

export class Runtime {
  readonly runtimeId: string;
  readonly displayName: string;
  readonly startedAt = new Date().toISOString();
  /** Diagnostics from opening the store (torn lines, interrupted turns). */
  readonly diagnostics: Diagnostic[] = [];
  #store: EventStore;
  #profiles: Record<string, ProfileSpec>;
  #defaultProfile: string;
  #engines = new Map<string, Engine>();
  #workers = new Map<string, WorkerState>();
  #requests = new Map<string, Promise<WorkerDetail>>();
  #stopping = false;
  #queueMax: number;
  #maxWorkers: number;
  #maxOutput: number;
  #creating = 0;
  /** Workers with events waiting for the store; retried by one timer. */
  #waiting = new Set<WorkerState>();
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #workspaceRoot?: string;

  private constructor(opts: RuntimeOptions) {
    this.runtimeId = opts.runtimeId;
    this.displayName = opts.displayName ?? opts.runtimeId;
    this.#store = opts.store;
    this.#profiles = { ...BUILTIN_PROFILES, ...opts.profiles };
    this.#defaultProfile = opts.defaultProfile ?? "echo";
    this.#queueMax = opts.subscriberQueueMax ?? 10_000;
    this.#maxWorkers = opts.maxWorkers ?? MAX_WORKERS_DEFAULT;
    this.#maxOutput = opts.maxOutputBytes ?? MAX_OUTPUT_BYTES_DEFAULT;
    this.#workspaceRoot = opts.workspaceRoot;
  }

  /** Opens the store, restores every worker and repairs turns cut off by a crash. */
  static async open(opts: RuntimeOptions): Promise<Runtime> {
    const rt = new Runtime(opts);
    const { workers, diagnostics } = await rt.#store.open();
    rt.diagnostics.push(...diagnostics);
    for (const w of workers) await rt.#restore(w);
    if (rt.#store.storeState?.().writable === false) rt.#scheduleRetry();
    return rt;
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  get storeKind(): string {
    return this.#store.kind;
  }

  /**
   * Start-up diagnostics plus the store's current state: `store_unavailable`
   * when writes fail (a start on a full disk serves reads and says so here).
   */
  runtimeDiagnostics(): Diagnostic[] {
    const out = [...this.diagnostics];
    const state = this.#store.storeState?.();
    const waiting = this.#waiting.size;
    // A store that reports its state is believed; otherwise the last write of each worker.
    const failing = state
      ? (state.writable ? 0 : 1)
      : [...this.#workers.values()].filter((w) => w.storeError !== null).length;
    if (failing > 0 || waiting > 0) {
      const reason = state?.reason ??
        [...this.#workers.values()].find((w) => w.storeError)?.storeError ?? "write failed";
      out.push(diagnostic(
        "store_unavailable",
        `The store does not take writes (${reason}); reads work, inputs answer 507 until ` +
          `space returns${waiting ? ` (${waiting} worker(s) waiting to record)` : ""}.`,
        "error",
      ));
    }
    return out;
  }

  summary(): RuntimeSummary {
    return {
      runtime_id: this.runtimeId,
      display_name: this.displayName,
      status: this.#stopping ? "stopping" : "running",
      protocol: { name: PROTOCOL_NAME, version: PROTOCOL_VERSION },
      capabilities: Object.fromEntries(
        [...OPERATIONS, ...LIFECYCLE_OPERATIONS].map((op) => [op, true]),
      ) as RuntimeSummary["capabilities"],
      profiles: Object.keys(this.#profiles).sort(),
      worker_count: this.#workers.size,
      worker_counts: this.workerCounts(),
      os: Deno.build.os,
      arch: Deno.build.arch,
      started_at: this.startedAt,
    };
  }

  /** Every worker (sorted by id, i.e. creation order), or only those with `status`. */
  listWorkers(status?: WorkerStatus): WorkerSummary[] {
    return [...this.#workers.values()].filter((w) => !status || w.status === status)
      .map((w) => this.#summaryOf(w))
      .sort((a, b) => a.worker_id < b.worker_id ? -1 : 1);
  }

  /** Workers per status; the same states `listWorkers(status)` filters on. */
  workerCounts(): WorkerCounts {
    const counts: WorkerCounts = { idle: 0, busy: 0, paused: 0, stopped: 0 };
    for (const w of this.#workers.values()) counts[w.status]++;
    return counts;
  }

  getWorker(workerId: string): WorkerDetail {
    return this.#detailOf(this.#get(workerId));
  }

  /** Creates a worker; a repeated `request_id` returns the worker the first call made. */
  createWorker(req: CreateWorkerRequest = {}): Promise<WorkerDetail> {
    // Every failure is a rejection, never a synchronous throw.
    if (this.#stopping) {
      return Promise.reject(new ApiError("runtime_stopping", "The runtime is shutting down."));
    }
    const profile = req.profile ?? this.#defaultProfile;
    if (!this.#profiles[profile]) {
      return Promise.reject(
        new ApiError("unknown_profile", `Profile "${profile}" is not defined on this runtime.`),
      );
    }
    if (req.request_id !== undefined) {
      const prior = this.#requests.get(req.request_id);
      if (prior) return prior.then((d) => this.getWorker(d.worker_id));
    }
    if (this.#workers.size + this.#creating >= this.#maxWorkers) {
      return Promise.reject(
        new ApiError(
          "runtime_at_capacity",
          `This runtime holds its maximum of ${this.#maxWorkers} workers.`,
        ),
      );
    }
    if (req.request_id !== undefined) {
      const p = this.#create(profile, req);
      this.#requests.set(req.request_id, p);
      p.catch(() => this.#requests.delete(req.request_id!));
      return p;
    }
    return this.#create(profile, req);
  }

  async #create(profile: string, req: CreateWorkerRequest): Promise<WorkerDetail> {
    const workerId = newWorkerId();
    const now = new Date().toISOString();
    const record: WorkerRecord = {
      worker_id: workerId,
      profile,
      display_name: req.display_name ?? `${profile} worker`,
      created_at: now,
      ...(req.request_id !== undefined ? { request_id: req.request_id } : {}),
    };
    this.#creating++;
    try {
      await this.#store.createWorker(record);
    } finally {
      this.#creating--;
    }
    const w = newWorkerState(record, now);
    this.#workers.set(workerId, w);
    const created: Pending[] = [
      ["worker.created", { profile, display_name: record.display_name }],
      ["worker.status", { status: "idle" }],
    ];
    if (req.input !== undefined) {
      // The first instruction: created and its turn started in one append (all or nothing).
      if (await this.#startTurn(w, req.input, created)) return this.#detailOf(w);
    }
    // The input (if any) was not accepted when this append is reached after a failure.
    const ok = req.input === undefined && await this.#append(w, created);
    if (!ok) {
      // The record exists but its log could not be started: the worker is
      // listed, takes reads, and records its creation on the next input.
      w.deferred.push(
        ["worker.created", { profile, display_name: record.display_name }],
        ["worker.status", { status: "idle" }],
      );
      this.#waiting.add(w);
      this.#scheduleRetry();
      throw storeUnavailable(w);
    }
    return this.#detailOf(w);
  }

  /**
   * Starts a turn with `text`; rejects with `worker_busy` rather than queueing,
   * and with 507 `store_unavailable` (never `worker_busy`) while the worker's
   * log cannot be written: the input is then not accepted and has no seq.
   */
  async input(workerId: string, text: string): Promise<Ack> {
    this.#assertRunning();
    const w = this.#get(workerId);
    if (w.status === "stopped") {
      throw new ApiError("worker_stopped", `Worker ${workerId} is stopped.`);
    }
    if (w.storeError !== null || w.deferred.length > 0) {
      // Never `worker_busy` here: a turn the store failed is still ending.
      if (w.status === "busy" || w.status === "paused" || !(await this.#recover(w))) {
        throw storeUnavailable(w);
      }
      this.#assertRunning();
      if ((w.status as WorkerStatus) === "stopped") {
        throw new ApiError("worker_stopped", `Worker ${workerId} is stopped.`);
      }
    }
    if (w.status === "busy" || w.status === "paused") {
      throw new ApiError("worker_busy", `Worker ${workerId} is busy with a turn.`);
    }
    const accepted = w.lastSeq + 1;
    if (!(await this.#startTurn(w, text, []))) throw storeUnavailable(w);
    return { worker_id: workerId, status: w.status, seq: accepted };
  }

  /**
   * Records `before`, the input and its turn's start in one append (completely or not at
   * all), then runs the turn. False when the store refused the append.
   */
  async #startTurn(w: WorkerState, text: string, before: Pending[]): Promise<boolean> {
    w.status = "busy";
    const turn = w.turnCount + 1;
    const accepted = w.lastSeq + 1 + before.length;
    const ok = await this.#append(w, [
      ...before,
      ["input.accepted", { text }],
      ["worker.status", { status: "busy" }],
      ["turn.started", { turn }],
    ]);
    if (!ok) {
      if (w.status === "busy") w.status = "idle";
      return false;
    }
    w.turnCount = turn;
    const abort = new AbortController();
    const gate = new TurnGate();
    w.turn = {
      abort,
      gate,
      number: turn,
      done: this.#runTurn(w, turn, text, abort.signal, accepted, gate),
    };
    return true;
  }

  async #runTurn(
    w: WorkerState,
    turn: number,
    text: string,
    signal: AbortSignal,
    acceptedSeq: number,
    gate: TurnGate,
  ): Promise<void> {
    // Let input() return its ack before the engine starts producing output.
    await Promise.resolve();
    const engine = this.#engineFor(w.record.profile);
    const spec = this.#profiles[w.record.profile] as { max_output_bytes?: number } | undefined;
    const maxOutput = spec?.max_output_bytes ?? this.#maxOutput;
    const enc = new TextEncoder();
    let outputBytes = 0;
    let result: TurnResult;
    try {
      result = await engine.runTurn({
        input: text,
        signal,
        pause: gate,
        emit: async (chunk: OutputChunk) => {
          // Nothing is recorded while paused, whatever the engine does meanwhile.
          while (gate.paused && !signal.aborted) await gate.wait(signal);
          if (signal.aborted) return;
          outputBytes += enc.encode(chunk.text).length;
          if (outputBytes > maxOutput) {
            w.turn?.abort.abort("output_limit" satisfies AbortReason);
            return;
          }
          const data: Record<string, unknown> = { text: chunk.text };
          if (chunk.stream) data.stream = chunk.stream;
          // A failed write aborts the turn (see #append); emit itself never rejects.
          await this.#append(w, [["output.delta", data]]);
        },
        workerId: w.record.worker_id,
        record: async (type, data) => {
          while (gate.paused && !signal.aborted) await gate.wait(signal);
          if (signal.aborted) return;
          // Like emit: a failed write aborts the turn; this never rejects.
          await this.#append(w, [[type, data]]);
        },
        history: () => this.#historyBefore(w.record.worker_id, acceptedSeq),
      });
    } catch (_e) {
      result = { outcome: "failed", reason: "engine error" };
    }
    const why = signal.aborted ? signal.reason as AbortReason : undefined;
    let end: Pending;
    if (why === "store" || why === "output_limit") {
      end = ["turn.failed", { turn, reason: why === "store" ? "store_unavailable" : why }];
      w.lastOutcome = "failed";
    } else if (why) {
      end = ["turn.cancelled", {
        turn,
        reason: why === "cancel"
          ? "cancelled"
          : why === "stop"
          ? "worker stopped"
          : "runtime stopping",
      }];
      w.lastOutcome = "cancelled";
    } else if (result.outcome === "completed") {
      end = ["turn.completed", {
        ...result.data,
        turn,
        ...(result.exit_code !== undefined ? { exit_code: result.exit_code } : {}),
      }];
      w.lastOutcome = "completed";
    } else {
      end = ["turn.failed", {
        ...result.data,
        turn,
        reason: result.reason,
        ...(result.exit_code !== undefined ? { exit_code: result.exit_code } : {}),
      }];
      w.lastOutcome = "failed";
    }
    w.turn = undefined;
    const ends: Pending[] = [end];
    const toIdle = w.status !== "stopped";
    if (toIdle) ends.push(["worker.status", { status: "idle" }]);
    // The worker reads idle once its turn's end is in the log (or waits for the store).
    await this.#recordOrDefer(w, ends);
    if (toIdle && (w.status === "busy" || w.status === "paused")) w.status = "idle";
  }

  /**
   * Holds the running turn (`paused`, `turn.paused`). Idempotent while paused; 409
   * `worker_not_busy` without a turn; 501 when the worker's engine cannot pause.
   */
  async pause(workerId: string): Promise<Ack> {
    const w = this.#get(workerId);
    this.#assertPausable(w);
    await w.tail; // an input being accepted starts its turn first
    const t = w.turn;
    if (w.status === "paused") return this.#ack(w);
    if (w.status !== "busy" || !t || t.abort.signal.aborted) {
      throw new ApiError("worker_not_busy", `Worker ${workerId} has no running turn to pause.`);
    }
    this.#assertWritable(w);
    t.gate.set(true);
    w.status = "paused";
    await this.#recordOrDefer(w, [
      ["turn.paused", { turn: t.number }],
      ["worker.status", { status: "paused" }],
    ]);
    return this.#ack(w);
  }

  /** Continues a paused turn (`turn.resumed`). Idempotent while busy; 409 otherwise. */
  async resume(workerId: string): Promise<Ack> {
    const w = this.#get(workerId);
    this.#assertPausable(w);
    await w.tail;
    const t = w.turn;
    if (w.status === "busy" && t) return this.#ack(w);
    if (w.status !== "paused" || !t) {
      throw new ApiError("worker_not_paused", `Worker ${workerId} is not paused.`);
    }
    w.status = "busy";
    // Seqs are handed out now, so the resume precedes any output the engine makes next.
    const recorded = this.#recordOrDefer(w, [
      ["turn.resumed", { turn: t.number }],
      ["worker.status", { status: "busy" }],
    ]);
    t.gate.set(false);
    await recorded;
    return this.#ack(w);
  }

  /**
   * Reopens a stopped worker as idle (`worker.restored`); seq continues. With `dryRun`
   * only checks: 409 `worker_not_stopped`, or 409 `profile_not_found` when its profile
   * is no longer in this runtime's config.
   */
  async restore(workerId: string, dryRun = false): Promise<RestoreResult> {
    this.#assertRunning();
    const w = this.#get(workerId);
    await w.tail;
    if (w.status !== "stopped") {
      throw new ApiError(
        "worker_not_stopped",
        `Worker ${workerId} is ${w.status}; only a stopped worker can be restored.`,
      );
    }
    if (!this.#profiles[w.record.profile]) {
      throw new ApiError(
        "profile_not_found",
        `Worker ${workerId} cannot be restored: its profile "${w.record.profile}" is no ` +
          `longer defined in this runtime's config.`,
      );
    }
    if (dryRun) return { ack: this.#ack(w), dry_run: true };
    this.#assertWritable(w);
    w.status = "idle";
    const ok = await this.#append(w, [
      ["worker.restored", { profile: w.record.profile }],
      ["worker.status", { status: "idle" }],
    ]);
    if (!ok) {
      if (w.status === "idle") w.status = "stopped";
      throw storeUnavailable(w);
    }
    return { ack: this.#ack(w), dry_run: false };
  }

  /** Renames a worker (any status); recorded as `worker.renamed` so it survives restarts. */
  async rename(workerId: string, displayName: string): Promise<WorkerDetail> {
    this.#assertRunning();
    const w = this.#get(workerId);
    this.#assertWritable(w);
    if (!(await this.#append(w, [["worker.renamed", { display_name: displayName }]]))) {
      throw storeUnavailable(w);
    }
    w.record = { ...w.record, display_name: displayName };
    return this.#detailOf(w);
  }

  /** Removes a stopped worker and its log; 409 `worker_not_stopped` otherwise. */
  async deleteWorker(workerId: string): Promise<{ worker_id: string }> {
    this.#assertRunning();
    const w = this.#get(workerId);
    await w.tail;
    if (w.status !== "stopped" || w.turn) {
      throw new ApiError(
        "worker_not_stopped",
        `Worker ${workerId} is ${w.status}; stop it before deleting it.`,
      );
    }
    await this.#store.deleteWorker(workerId);
    this.#workers.delete(workerId);
    this.#waiting.delete(w);
    if (w.record.request_id !== undefined) this.#requests.delete(w.record.request_id);
    for (const s of [...w.subscribers]) {
      s.close({ code: "worker_not_found", message: `Worker ${workerId} was deleted.` });
    }
    return { worker_id: workerId };
  }

  #assertPausable(w: WorkerState): void {
    if (this.#engineFor(w.record.profile).features?.pause === false) {
      throw new ApiError(
        "unsupported_operation",
        `Profile "${w.record.profile}" runs an engine that cannot pause.`,
      );
    }
  }

  #assertWritable(w: WorkerState): void {
    if (w.storeError !== null) throw storeUnavailable(w);
  }

  #ack(w: WorkerState): Ack {
    return { worker_id: w.record.worker_id, status: w.status, seq: w.publishedSeq };
  }

  /** Aborts the running turn; the worker is idle and usable again. No-op when idle. */
  async cancel(workerId: string): Promise<Ack> {
    const w = this.#get(workerId);
    await w.tail; // an input being accepted starts its turn first
    if (w.turn) {
      const t = w.turn;
      t.abort.abort("cancel" satisfies AbortReason);
      await t.done;
    }
    await w.tail;
    return { worker_id: workerId, status: w.status, seq: w.publishedSeq };
  }

  /**
   * Ends the worker for good, cancelling a running turn first. Idempotent.
   * Works while the store refuses writes: the worker is stopped at once and
   * its stop is recorded once a write succeeds again.
   */
  async stop(workerId: string): Promise<Ack> {
    const w = this.#get(workerId);
    await w.tail; // an input being accepted starts its turn first
    if (w.status !== "stopped") {
      w.status = "stopped";
      if (w.turn) {
        const t = w.turn;
        t.abort.abort("stop" satisfies AbortReason);
        await t.done;
      }
      await this.#recordOrDefer(w, [["worker.status", { status: "stopped" }], [
        "worker.stopped",
        {},
      ]]);
    }
    await w.tail;
    return { worker_id: workerId, status: w.status, seq: w.publishedSeq };
  }

  /** A page of the persisted log: events with `seq > after`. */
  async transcript(
    workerId: string,
    after = 0,
    limit = TRANSCRIPT_LIMIT_DEFAULT,
  ): Promise<TranscriptPage> {
    const w = this.#get(workerId);
    limit = Math.max(1, Math.min(limit, TRANSCRIPT_LIMIT_MAX));
    const upTo = w.publishedSeq;
    const entries = after >= upTo
      ? []
      : (await this.#store.read(workerId, after, limit)).filter((e) => e.seq <= upTo);
    return { entries, next_after: entries.length ? entries[entries.length - 1].seq : after };
  }

  /** Replays the log from `after`, then follows live events, with no gap or duplicate. */
  subscribe(workerId: string, after = 0, opts: SubscriptionOptions = {}): Subscription {
    const w = this.#get(workerId);
    if (this.#stopping) throw new ApiError("runtime_stopping", "The runtime is shutting down.");
    const sub = new Subscription({
      after,
      queueMax: opts.queueMax ?? this.#queueMax,
      read: (a, n) => this.#store.read(workerId, a, n),
      publishedSeq: () => w.publishedSeq,
      onClose: () => w.subscribers.delete(sub),
    });
    w.subscribers.add(sub);
    return sub;
  }

  /** Stops accepting work, cancels running turns, closes streams and flushes the store. */
  async shutdown(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const running = [...this.#workers.values()].filter((w) => w.turn);
    for (const w of running) w.turn!.abort.abort("shutdown" satisfies AbortReason);
    await Promise.all(running.map((w) => w.turn?.done));
    // One last try at what waited for the store (turn ends after a full disk).
    await Promise.all([...this.#workers.values()].map((w) => this.#recover(w)));
    await Promise.all([...this.#workers.values()].map((w) => w.tail));
    for (const w of this.#workers.values()) {
      for (const s of [...w.subscribers]) {
        s.close({ code: "runtime_stopping", message: "The runtime is shutting down." });
      }
    }
    await this.#store.flush();
    await this.#store.close();
  }

  // --- internals ---

  #assertRunning() {
    if (this.#stopping) throw new ApiError("runtime_stopping", "The runtime is shutting down.");
  }

  #get(workerId: string): WorkerState {
    if (!isWorkerId(workerId)) {
      throw new ApiError("invalid_id", "Worker ids are UUIDv7 strings generated by the runtime.");
    }
    const w = this.#workers.get(workerId);
    if (!w) throw new ApiError("worker_not_found", `Worker ${workerId} does not exist.`);
    return w;
  }

  #engineFor(profile: string): Engine {
    let e = this.#engines.get(profile);
    if (!e) {
      e = engineFor(this.#profiles[profile] ?? { engine: "echo" }, {
        workspaceRoot: this.#workspaceRoot,
      });
      this.#engines.set(profile, e);
    }
    return e;
  }

  /** The persisted events with `seq < beforeSeq`, read page by page from the store. */
  async #historyBefore(workerId: string, beforeSeq: number): Promise<WorkerEvent[]> {
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
  #append(w: WorkerState, items: Pending[]): Promise<boolean> {
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
      return true;
    }, (e) => {
      if (epoch === w.epoch) {
        w.epoch++;
        w.lastSeq = w.publishedSeq;
        w.storeError = e instanceof ApiError ? e.message : "the store refused a write";
        w.turn?.abort.abort("store" satisfies AbortReason);
        this.#scheduleRetry();
      }
      return false;
    });
    w.tail = settled;
    return settled;
  }

  /** Appends `items`, or keeps them to record once the store takes writes again. */
  async #recordOrDefer(w: WorkerState, items: Pending[]): Promise<void> {
    if (await this.#append(w, items)) return;
    w.deferred.push(...items);
    // Bounded: keep the oldest (the turn's end) and the newest statuses.
    if (w.deferred.length > DEFERRED_MAX) w.deferred.splice(2, w.deferred.length - DEFERRED_MAX);
    this.#waiting.add(w);
    this.#scheduleRetry();
  }

  /**
   * While writes fail, retries every second: probes the store (so its state
   * in diagnostics clears once space returns) and records what workers
   * deferred (a turn's end, a stop), without waiting for the next input.
   */
  #scheduleRetry(): void {
    if (this.#retryTimer !== undefined || this.#stopping) return;
    this.#retryTimer = setTimeout(async () => {
      try {
        await this.#store.probe?.();
        for (const w of [...this.#waiting]) {
          if (this.#stopping) return;
          if (w.status === "busy" || w.status === "paused") continue; // its turn is still ending
          if (await this.#recover(w)) this.#waiting.delete(w);
        }
      } catch { /* never rejects: #recover and probe report through state */ }
      this.#retryTimer = undefined;
      const unwritable = this.#store.storeState?.().writable === false;
      if (this.#waiting.size > 0 || unwritable) this.#scheduleRetry();
    }, STORE_RETRY_MS);
  }

  /** Tries to record what waited for the store; true once the worker's log takes writes. */
  #recover(w: WorkerState): Promise<boolean> {
    if (w.storeError === null && w.deferred.length === 0) return Promise.resolve(true);
    w.recovering ??= (async () => {
      await w.tail;
      w.storeError = null; // try once more
      const items = w.deferred.splice(0);
      if (items.length === 0) return true;
      if (await this.#append(w, items)) {
        this.#waiting.delete(w);
        return true;
      }
      w.deferred.unshift(...items);
      return false;
    })().finally(() => w.recovering = undefined);
    return w.recovering;
  }

  async #restore({ record, summary }: RestoredWorker): Promise<void> {
    const w = newWorkerState(record, summary.last_at ?? record.created_at);
    w.lastSeq = w.publishedSeq = summary.last_seq;
    w.status = summary.status;
    if (summary.display_name !== null) w.record = { ...record, display_name: summary.display_name };
    w.turnCount = summary.turn_count;
    w.lastOutcome = summary.last_outcome;
    const openTurn = summary.open_turn;
    this.#workers.set(record.worker_id, w);
    if (record.request_id !== undefined) {
      this.#requests.set(record.request_id, Promise.resolve(this.#detailOf(w)));
    }
    if (w.status === "busy" || w.status === "paused" || openTurn !== null) {
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
      // On a full disk the repair waits for the next successful write; the start goes on.
      await this.#recordOrDefer(w, repair);
      this.diagnostics.push(diagnostic(
        "turn_interrupted_by_restart",
        `Worker ${record.worker_id} was busy when the runtime stopped; its turn was marked failed.`,
        "warning",
      ));
    }
  }

  #summaryOf(w: WorkerState): WorkerSummary {
    return {
      runtime_id: this.runtimeId,
      worker_id: w.record.worker_id,
      display_name: w.record.display_name,
      profile: w.record.profile,
      status: w.status,
      created_at: w.record.created_at,
      last_seq: w.publishedSeq,
    };
  }

  #detailOf(w: WorkerState): WorkerDetail {
    return {
      ...this.#summaryOf(w),
      updated_at: w.updatedAt,
      turn_count: w.turnCount,
      last_turn_outcome: w.lastOutcome,
    };
  }
}

function newWorkerState(record: WorkerRecord, updatedAt: string): WorkerState {
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

function storeUnavailable(w: WorkerState): ApiError {
  return new ApiError(
    "store_unavailable",
    `Worker ${w.record.worker_id}'s log cannot be written now (${
      w.storeError ?? "store unavailable"
    }); reads work, try again once the store has space.`,
  );
}
