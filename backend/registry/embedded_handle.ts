/**
 * The embedded Runtime as a registry entry: direct library calls, no HTTP.
 * @module
 */
import {
  type Ack,
  ApiError,
  type ControlFrame,
  type CreateWorkerRequest,
  EMBEDDED_RUNTIME_ID,
  type RestoreResult,
  type RuntimeEntry,
  type TranscriptPage,
  type WorkerDetail,
  type WorkerStatus,
} from "../../shared/mod.ts";
import type { Runtime } from "../../runtime/mod.ts";
import type { RuntimeHandle, WorkerList } from "./runtime_handle.ts";
import {
  EventFanout,
  type EventSink,
  type FanoutOptions,
  type RelayFrame,
  type SubscriptionEnd,
} from "./event_fanout.ts";

export class EmbeddedRuntimeHandle implements RuntimeHandle {
  readonly runtimeId = EMBEDDED_RUNTIME_ID;
  readonly kind = "embedded" as const;
  readonly runtime: Runtime;
  /** The shared event streams of this runtime's workers (one subscription per worker). */
  readonly fanout: EventFanout;

  constructor(runtime: Runtime, fanout: FanoutOptions = {}) {
    this.runtime = runtime;
    this.fanout = new EventFanout({
      head: (workerId) => Promise.resolve().then(() => runtime.getWorker(workerId).last_seq),
      follow: (workerId, after, signal) => followEmbedded(runtime, workerId, after, signal),
      replay: async (workerId, after, limit) =>
        (await runtime.transcript(workerId, after, limit)).entries,
    }, fanout);
  }

  get displayName(): string {
    return this.runtime.displayName;
  }

  describe(): Promise<RuntimeEntry> {
    const s = this.runtime.summary();
    const now = new Date().toISOString();
    return Promise.resolve({
      // Same process, same library: always ready, checked on every read.
      state: "ready" as const,
      last_checked_at: now,
      last_ok_at: now,
      latency_ms: 0,
      health_history: [],
      runtime_id: this.runtimeId,
      kind: this.kind,
      display_name: s.display_name,
      status: s.status,
      protocol: s.protocol,
      capabilities: s.capabilities,
      profiles: s.profiles,
      worker_count: s.worker_count,
      worker_counts: s.worker_counts ?? null,
      can_create_worker: s.status === "running" && s.capabilities.create_worker,
      os: s.os,
      arch: s.arch,
      diagnostics: [...this.runtime.diagnostics],
    });
  }

  listWorkers(_signal?: AbortSignal, status?: WorkerStatus): Promise<WorkerList> {
    return Promise.resolve({
      workers: this.runtime.listWorkers(status),
      json: this.runtime.listWorkersJson(status).items,
      diagnostics: [...this.runtime.diagnostics],
    });
  }

  getWorker(workerId: string): Promise<WorkerDetail> {
    return Promise.resolve().then(() => this.runtime.getWorker(workerId));
  }

  workerEnvelope(workerId: string): Promise<{ worker: WorkerDetail }> {
    return Promise.resolve().then(() => ({ worker: this.runtime.getWorker(workerId) }));
  }

  createWorker(req: CreateWorkerRequest): Promise<WorkerDetail> {
    return this.runtime.createWorker(req);
  }

  input(workerId: string, text: string): Promise<Ack> {
    return this.runtime.input(workerId, text);
  }

  cancel(workerId: string): Promise<Ack> {
    return this.runtime.cancel(workerId);
  }

  stop(workerId: string): Promise<Ack> {
    return this.runtime.stop(workerId);
  }

  restore(workerId: string, dryRun: boolean): Promise<RestoreResult> {
    return this.runtime.restore(workerId, dryRun);
  }

  pause(workerId: string): Promise<Ack> {
    return this.runtime.pause(workerId);
  }

  resume(workerId: string): Promise<Ack> {
    return this.runtime.resume(workerId);
  }

  rename(workerId: string, displayName: string): Promise<WorkerDetail> {
    return this.runtime.rename(workerId, displayName);
  }

  deleteWorker(workerId: string): Promise<{ worker_id: string }> {
    return this.runtime.deleteWorker(workerId);
  }

  transcript(workerId: string, after: number, limit: number): Promise<TranscriptPage> {
    return this.runtime.transcript(workerId, after, limit);
  }

  transcriptEnvelope(workerId: string, after: number, limit: number): Promise<TranscriptPage> {
    return this.transcript(workerId, after, limit);
  }

  streamEvents(
    workerId: string,
    after: number,
    sink: EventSink,
    signal: AbortSignal,
  ): Promise<SubscriptionEnd> {
    return this.fanout.subscribe(workerId, after, sink, signal);
  }

  close(): Promise<void> {
    return this.runtime.shutdown();
  }
}

/**
 * The embedded runtime's live events of one worker as relay frames (each serialised once).
 * A lagging library subscription is reopened from the last seq (the fan-out reads fast, so
 * this is rare); the runtime stopping ends the stream with `stream.ended {reason: "shutdown"}`.
 */
async function* followEmbedded(
  runtime: Runtime,
  workerId: string,
  after: number,
  signal: AbortSignal,
): AsyncGenerator<RelayFrame> {
  let last = after;
  let sub: ReturnType<Runtime["subscribe"]>;
  try {
    sub = runtime.subscribe(workerId, after);
  } catch (e) {
    yield refused(e, after);
    return;
  }
  const onAbort = () => sub.close();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    for (;;) {
      for (let e = await sub.next(); e; e = await sub.next()) {
        last = e.seq;
        yield { seq: e.seq, text: JSON.stringify(e), frame: e };
      }
      if (sub.closeReason?.code !== "stream_lagging" || signal.aborted) break;
      try {
        sub = runtime.subscribe(workerId, last);
      } catch (e) {
        yield refused(e, last);
        return;
      }
    }
    if (sub.closeReason?.code === "runtime_stopping") {
      // The Backend itself is stopping: the end of the browser's stream (DESIGN §11).
      yield control({ type: "stream.ended", reason: "shutdown", after: last });
    } else if (sub.closeReason) {
      yield control({ type: "stream.closed", ...sub.closeReason, after: last });
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    sub.close();
  }
}

function control(frame: ControlFrame): RelayFrame {
  return { seq: null, text: JSON.stringify(frame), frame };
}

/** The frame that ends a stream the runtime refused to (re)open. */
function refused(e: unknown, after: number): RelayFrame {
  if (e instanceof ApiError && e.code === "runtime_stopping") {
    return control({ type: "stream.ended", reason: "shutdown", after });
  }
  const code = e instanceof ApiError ? e.code : "internal_error";
  const message = e instanceof ApiError ? e.message : "The event stream could not be opened.";
  return control({ type: "stream.closed", code, message, after });
}
