/**
 * The embedded Runtime as a registry entry: direct library calls, no HTTP.
 * @module
 */
import {
  type Ack,
  type CreateWorkerRequest,
  EMBEDDED_RUNTIME_ID,
  type RestoreResult,
  type RuntimeEntry,
  type TranscriptPage,
  type WorkerDetail,
  type WorkerStatus,
} from "../../shared/mod.ts";
import type { Runtime } from "../../runtime/mod.ts";
import type { RuntimeHandle, StreamFrame, WorkerList } from "./runtime_handle.ts";

export class EmbeddedRuntimeHandle implements RuntimeHandle {
  readonly runtimeId = EMBEDDED_RUNTIME_ID;
  readonly kind = "embedded" as const;
  readonly runtime: Runtime;

  constructor(runtime: Runtime) {
    this.runtime = runtime;
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
      diagnostics: [...this.runtime.diagnostics],
    });
  }

  getWorker(workerId: string): Promise<WorkerDetail> {
    return Promise.resolve().then(() => this.runtime.getWorker(workerId));
  }

  async workerEnvelope(workerId: string): Promise<{ worker: WorkerDetail }> {
    return { worker: await this.getWorker(workerId) };
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

  events(
    workerId: string,
    after: number,
    signal: AbortSignal,
  ): Promise<AsyncIterable<StreamFrame>> {
    const runtime = this.runtime;
    let sub = runtime.subscribe(workerId, after);
    const onAbort = () => sub.close();
    signal.addEventListener("abort", onAbort, { once: true });
    async function* frames(): AsyncGenerator<StreamFrame> {
      let last = after;
      try {
        for (;;) {
          for (let e = await sub.next(); e; e = await sub.next()) {
            last = e.seq;
            yield e;
          }
          // A slow browser made the subscription lag: replay from the store instead of
          // buffering, so the proxy stream itself never drops anything.
          if (sub.closeReason?.code !== "stream_lagging" || signal.aborted) break;
          sub = runtime.subscribe(workerId, last);
        }
        if (sub.closeReason?.code === "runtime_stopping") {
          // The Backend itself is stopping: the end of the browser's stream (DESIGN §11).
          yield { type: "stream.ended", reason: "shutdown", after: last };
        } else if (sub.closeReason) {
          yield { type: "stream.closed", ...sub.closeReason, after: last };
        }
      } finally {
        signal.removeEventListener("abort", onAbort);
        sub.close();
      }
    }
    return Promise.resolve(frames());
  }

  close(): Promise<void> {
    return this.runtime.shutdown();
  }
}
