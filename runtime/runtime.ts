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
  newWorkerId,
  OPERATIONS,
  PROTOCOL_NAME,
  PROTOCOL_VERSION,
  type RuntimeSummary,
  TRANSCRIPT_LIMIT_DEFAULT,
  TRANSCRIPT_LIMIT_MAX,
  type TranscriptPage,
  type TurnOutcome,
  type WorkerDetail,
  type WorkerEvent,
  type WorkerEventType,
  type WorkerStatus,
  type WorkerSummary,
} from "../shared/mod.ts";
import { BUILTIN_PROFILES, engineFor, type ProfileSpec } from "./config.ts";
import type { Engine, OutputChunk, TurnResult } from "./engine.ts";
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
  /** Folder that holds one workspace folder per worker (engine `openai` tools act only there). */
  workspaceRoot?: string;
}

interface WorkerState {
  record: WorkerRecord;
  status: WorkerStatus;
  /** Last seq handed out. */
  lastSeq: number;
  /** Last seq persisted and broadcast; subscribers switch to live at this point. */
  publishedSeq: number;
  /** Tail of the in-flight appends; resolves when every recorded event is persisted. */
  tail: Promise<void>;
  turnCount: number;
  lastOutcome: TurnOutcome | null;
  updatedAt: string;
  turn?: { abort: AbortController; done: Promise<void> };
  subscribers: Set<Subscription>;
}

/** Why a turn's AbortSignal fired. */
type AbortReason = "cancel" | "stop" | "shutdown";

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
  #workspaceRoot?: string;

  private constructor(opts: RuntimeOptions) {
    this.runtimeId = opts.runtimeId;
    this.displayName = opts.displayName ?? opts.runtimeId;
    this.#store = opts.store;
    this.#profiles = { ...BUILTIN_PROFILES, ...opts.profiles };
    this.#defaultProfile = opts.defaultProfile ?? "echo";
    this.#queueMax = opts.subscriberQueueMax ?? 10_000;
    this.#workspaceRoot = opts.workspaceRoot;
  }

  /** Opens the store, restores every worker and repairs turns cut off by a crash. */
  static async open(opts: RuntimeOptions): Promise<Runtime> {
    const rt = new Runtime(opts);
    const { workers, diagnostics } = await rt.#store.open();
    rt.diagnostics.push(...diagnostics);
    for (const w of workers) await rt.#restore(w);
    return rt;
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  get storeKind(): string {
    return this.#store.kind;
  }

  summary(): RuntimeSummary {
    return {
      runtime_id: this.runtimeId,
      display_name: this.displayName,
      status: this.#stopping ? "stopping" : "running",
      protocol: { name: PROTOCOL_NAME, version: PROTOCOL_VERSION },
      capabilities: Object.fromEntries(OPERATIONS.map((op) => [op, true])) as RuntimeSummary[
        "capabilities"
      ],
      profiles: Object.keys(this.#profiles).sort(),
      worker_count: this.#workers.size,
      os: Deno.build.os,
      arch: Deno.build.arch,
      started_at: this.startedAt,
    };
  }

  listWorkers(): WorkerSummary[] {
    return [...this.#workers.values()].map((w) => this.#summaryOf(w))
      .sort((a, b) => a.worker_id < b.worker_id ? -1 : 1);
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
    await this.#store.createWorker(record);
    const w: WorkerState = {
      record,
      status: "idle",
      lastSeq: 0,
      publishedSeq: 0,
      tail: Promise.resolve(),
      turnCount: 0,
      lastOutcome: null,
      updatedAt: now,
      subscribers: new Set(),
    };
    this.#workers.set(workerId, w);
    this.#record(w, "worker.created", { profile, display_name: record.display_name });
    this.#record(w, "worker.status", { status: "idle" });
    await w.tail;
    return this.#detailOf(w);
  }

  /** Starts a turn with `text`; rejects with `worker_busy` rather than queueing. */
  async input(workerId: string, text: string): Promise<Ack> {
    this.#assertRunning();
    const w = this.#get(workerId);
    if (w.status === "stopped") {
      throw new ApiError("worker_stopped", `Worker ${workerId} is stopped.`);
    }
    if (w.status === "busy") {
      throw new ApiError("worker_busy", `Worker ${workerId} is busy with a turn.`);
    }
    w.status = "busy";
    const accepted = this.#record(w, "input.accepted", { text });
    this.#record(w, "worker.status", { status: "busy" });
    const turn = ++w.turnCount;
    this.#record(w, "turn.started", { turn });
    const abort = new AbortController();
    w.turn = { abort, done: this.#runTurn(w, turn, text, abort.signal, accepted) };
    await w.tail;
    return { worker_id: workerId, status: w.status, seq: accepted };
  }

  async #runTurn(
    w: WorkerState,
    turn: number,
    text: string,
    signal: AbortSignal,
    acceptedSeq: number,
  ): Promise<void> {
    // Let input() return its ack before the engine starts producing output.
    await Promise.resolve();
    const engine = this.#engineFor(w.record.profile);
    let result: TurnResult;
    try {
      result = await engine.runTurn({
        input: text,
        signal,
        emit: (chunk: OutputChunk) => {
          if (signal.aborted) return Promise.resolve();
          const data: Record<string, unknown> = { text: chunk.text };
          if (chunk.stream) data.stream = chunk.stream;
          this.#record(w, "output.delta", data);
          return w.tail;
        },
        workerId: w.record.worker_id,
        record: (type, data) => {
          if (signal.aborted) return Promise.resolve();
          this.#record(w, type, data);
          return w.tail;
        },
        history: () => this.#historyBefore(w.record.worker_id, acceptedSeq),
      });
    } catch (_e) {
      result = { outcome: "failed", reason: "engine error" };
    }
    if (signal.aborted) {
      const why = signal.reason as AbortReason;
      this.#record(w, "turn.cancelled", {
        turn,
        reason: why === "cancel"
          ? "cancelled"
          : why === "stop"
          ? "worker stopped"
          : "runtime stopping",
      });
      w.lastOutcome = "cancelled";
    } else if (result.outcome === "completed") {
      this.#record(w, "turn.completed", {
        ...result.data,
        turn,
        ...(result.exit_code !== undefined ? { exit_code: result.exit_code } : {}),
      });
      w.lastOutcome = "completed";
    } else {
      this.#record(w, "turn.failed", {
        ...result.data,
        turn,
        reason: result.reason,
        ...(result.exit_code !== undefined ? { exit_code: result.exit_code } : {}),
      });
      w.lastOutcome = "failed";
    }
    w.turn = undefined;
    if (w.status !== "stopped") {
      w.status = "idle";
      this.#record(w, "worker.status", { status: "idle" });
    }
    await w.tail;
  }

  /** Aborts the running turn; the worker is idle and usable again. No-op when idle. */
  async cancel(workerId: string): Promise<Ack> {
    const w = this.#get(workerId);
    if (w.turn) {
      const t = w.turn;
      t.abort.abort("cancel" satisfies AbortReason);
      await t.done;
    }
    await w.tail;
    return { worker_id: workerId, status: w.status, seq: w.lastSeq };
  }

  /** Ends the worker for good, cancelling a running turn first. Idempotent. */
  async stop(workerId: string): Promise<Ack> {
    const w = this.#get(workerId);
    if (w.status !== "stopped") {
      w.status = "stopped";
      if (w.turn) {
        const t = w.turn;
        t.abort.abort("stop" satisfies AbortReason);
        await t.done;
      }
      this.#record(w, "worker.status", { status: "stopped" });
      this.#record(w, "worker.stopped", {});
    }
    await w.tail;
    return { worker_id: workerId, status: w.status, seq: w.lastSeq };
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
    const running = [...this.#workers.values()].filter((w) => w.turn);
    for (const w of running) w.turn!.abort.abort("shutdown" satisfies AbortReason);
    await Promise.all(running.map((w) => w.turn?.done));
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

  /** Assigns the next seq, persists, then publishes in seq order. Returns the seq. */
  #record(w: WorkerState, type: WorkerEventType, data: Record<string, unknown>): number {
    const event: WorkerEvent = {
      seq: ++w.lastSeq,
      worker_id: w.record.worker_id,
      at: new Date().toISOString(),
      type,
      data,
    };
    w.updatedAt = event.at;
    // The store resolves appends for one worker in call order, so publishing in
    // `.then` keeps seq order while letting the store batch concurrent appends.
    const appended = this.#store.append(w.record.worker_id, [event]);
    const published = appended.then(() => {
      w.publishedSeq = event.seq;
      for (const s of w.subscribers) s.push(event);
    });
    w.tail = Promise.all([w.tail, published]).then(() => {});
    return event.seq;
  }

  async #restore({ record, events }: RestoredWorker): Promise<void> {
    const last = events[events.length - 1];
    const w: WorkerState = {
      record,
      status: "idle",
      lastSeq: last?.seq ?? 0,
      publishedSeq: last?.seq ?? 0,
      tail: Promise.resolve(),
      turnCount: 0,
      lastOutcome: null,
      updatedAt: last?.at ?? record.created_at,
      subscribers: new Set(),
    };
    let openTurn: number | null = null;
    for (const e of events) {
      if (e.type === "worker.status") w.status = e.data.status as WorkerStatus;
      else if (e.type === "worker.stopped") w.status = "stopped";
      else if (e.type === "turn.started") {
        openTurn = Number(e.data.turn) || w.turnCount + 1;
        w.turnCount = Math.max(w.turnCount, openTurn);
      } else if (e.type.startsWith("turn.")) {
        openTurn = null;
        w.lastOutcome = e.type.slice(5) as TurnOutcome;
      }
    }
    this.#workers.set(record.worker_id, w);
    if (record.request_id !== undefined) {
      this.#requests.set(record.request_id, Promise.resolve(this.#detailOf(w)));
    }
    if (w.status === "busy" || openTurn !== null) {
      if (openTurn !== null) {
        this.#record(w, "turn.failed", {
          turn: openTurn,
          reason: "the runtime restarted while this turn was running",
        });
        w.lastOutcome = "failed";
      }
      if (w.status !== "stopped") {
        w.status = "idle";
        this.#record(w, "worker.status", { status: "idle" });
      }
      await w.tail;
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
