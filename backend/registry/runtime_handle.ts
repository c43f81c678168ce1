/**
 * One interface for every runtime the Backend routes to, whether it is the
 * embedded library or a remote process. Errors are thrown as typed ApiErrors.
 * @module
 */
import type {
  Ack,
  ControlFrame,
  CreateWorkerRequest,
  Diagnostic,
  RestoreResult,
  RuntimeEntry,
  RuntimeKind,
  TranscriptPage,
  WorkerDetail,
  WorkerEvent,
  WorkerStatus,
  WorkerSummary,
} from "../../shared/mod.ts";
import type { JsonBody } from "./json_body.ts";
import type { EventSink, SubscriptionEnd } from "./event_fanout.ts";

/** A frame of a browser-facing event stream: a worker event or a `stream.*` control frame. */
export type StreamFrame = WorkerEvent | ControlFrame;

/** One runtime's workers; kept and shared between calls by the handle, so never mutated. */
export interface WorkerList {
  workers: WorkerSummary[];
  diagnostics: Diagnostic[];
  /**
   * `workers` as comma-joined JSON texts (built once per change), when the handle keeps them:
   * `/api/workers` splices it in instead of serialising every worker again (issue 15).
   */
  json?: string;
  /** Each worker's JSON text in `workers` order, when the handle keeps them. */
  texts?: string[];
}

export interface RuntimeHandle {
  readonly runtimeId: string;
  readonly kind: RuntimeKind;
  readonly displayName: string;
  /** Live registry projection of this runtime; never throws (problems become diagnostics). */
  describe(signal?: AbortSignal): Promise<RuntimeEntry>;
  /** The runtime's workers, or only those with `status` (filtered by the runtime). */
  listWorkers(signal?: AbortSignal, status?: WorkerStatus): Promise<WorkerList>;
  getWorker(workerId: string): Promise<WorkerDetail>;
  /**
   * `{worker}` as the browser gets it. A remote runtime's answer is passed on as the bytes it
   * sent ({@link JsonBody}, the lean proxy path); the embedded one is the object.
   */
  workerEnvelope(workerId: string): Promise<JsonBody | { worker: WorkerDetail }>;
  createWorker(req: CreateWorkerRequest): Promise<WorkerDetail>;
  input(workerId: string, text: string): Promise<Ack>;
  cancel(workerId: string): Promise<Ack>;
  stop(workerId: string): Promise<Ack>;
  /** Reopens a stopped worker; `dryRun` only checks whether it can (issue 17). */
  restore(workerId: string, dryRun: boolean): Promise<RestoreResult>;
  pause(workerId: string): Promise<Ack>;
  resume(workerId: string): Promise<Ack>;
  rename(workerId: string, displayName: string): Promise<WorkerDetail>;
  /** Removes a stopped worker and its log. */
  deleteWorker(workerId: string): Promise<{ worker_id: string }>;
  transcript(workerId: string, after: number, limit: number): Promise<TranscriptPage>;
  /** The transcript page as the browser gets it (bytes from a remote, like the worker). */
  transcriptEnvelope(
    workerId: string,
    after: number,
    limit: number,
  ): Promise<JsonBody | TranscriptPage>;
  /**
   * Feeds `sink` (an open browser socket) the worker's events with `seq > after`, then live,
   * until `signal` aborts, the sink lags (dropped with `stream_lagging`) or the stream ends.
   * Every browser on one worker shares one upstream subscription (issue 15). Remote handles
   * reconnect on their own and report it with `stream.reconnecting` / `stream.resumed`.
   * Callers look the worker up with {@link RuntimeHandle.getWorker} first, so an unknown
   * worker is an HTTP error before any socket is upgraded.
   */
  streamEvents(
    workerId: string,
    after: number,
    sink: EventSink,
    signal: AbortSignal,
  ): Promise<SubscriptionEnd>;
  close(): Promise<void>;
}
