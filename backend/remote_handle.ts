/**
 * A remote Runtime process as a registry entry, reached through the
 * Backend-owned client. Its endpoint and token stay inside this object.
 * @module
 */
import {
  type Ack,
  ApiError,
  type CreateWorkerRequest,
  type Diagnostic,
  diagnostic,
  PROTOCOL_NAME,
  PROTOCOL_VERSION,
  type RuntimeEntry,
  type RuntimeSummary,
  type TranscriptPage,
  type WorkerDetail,
} from "../shared/mod.ts";
import type { RemoteConfig } from "./config.ts";
import { RemoteRuntimeClient } from "./remote_client.ts";
import type { RuntimeHandle, StreamFrame, WorkerList } from "./runtime_handle.ts";
import { RemoteEndpoint } from "./secret.ts";
import { resolveTokenRef } from "./token_ref.ts";

export interface RemoteHandleOptions {
  /** Per-request timeout for the remote client, ms. */
  timeoutMs?: number;
  /** Environment lookup for `token_ref = "env:NAME"` (default: the process environment). */
  env?: (name: string) => string | undefined;
  /** Backoff schedule for event stream reconnects, ms. */
  backoffMs?: number[];
}

/** Checks a summary against the configured id and protocol; returns problems found. */
export function compatibilityProblems(configuredId: string, s: RuntimeSummary): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (s.protocol.name !== PROTOCOL_NAME || s.protocol.version !== PROTOCOL_VERSION) {
    out.push(diagnostic(
      "runtime_protocol_unsupported",
      `Runtime ${configuredId} speaks ${s.protocol.name}/${s.protocol.version}; ` +
        `this Backend speaks ${PROTOCOL_NAME}/${PROTOCOL_VERSION}.`,
    ));
  }
  if (s.runtime_id !== configuredId) {
    out.push(diagnostic(
      "runtime_id_mismatch",
      `The endpoint configured for runtime ${configuredId} answers as runtime ${s.runtime_id}; ` +
        `it points at another runtime.`,
    ));
  }
  return out;
}

export class RemoteRuntimeHandle implements RuntimeHandle {
  readonly runtimeId: string;
  readonly kind = "remote" as const;
  readonly displayName: string;
  #client: RemoteRuntimeClient | null = null;
  #setupError: ApiError | null = null;
  #backoff?: number[];
  /** Set once a summary showed the endpoint is another runtime or protocol. */
  #incompatible: Diagnostic[] = [];

  constructor(cfg: RemoteConfig, opts: RemoteHandleOptions = {}) {
    this.runtimeId = cfg.id;
    this.displayName = cfg.display_name ?? cfg.id;
    this.#backoff = opts.backoffMs;
    try {
      const token = cfg.token_ref ? resolveTokenRef(cfg.token_ref, opts.env) : undefined;
      this.#client = new RemoteRuntimeClient({
        runtimeId: cfg.id,
        endpoint: new RemoteEndpoint(cfg.endpoint),
        token,
        timeoutMs: opts.timeoutMs,
      });
    } catch (e) {
      this.#setupError = e instanceof ApiError
        ? new ApiError(e.code, `Runtime ${cfg.id}: ${e.message}`)
        : new ApiError("remote_runtime_unavailable", `Runtime ${cfg.id} is misconfigured.`);
    }
  }

  /** The client, or the reason there is none (fails closed on an unresolved token). */
  get #c(): RemoteRuntimeClient {
    if (!this.#client) throw this.#setupError!;
    if (this.#incompatible.length) {
      throw new ApiError(this.#incompatible[0].code, this.#incompatible[0].message);
    }
    return this.#client;
  }

  async describe(signal?: AbortSignal): Promise<RuntimeEntry> {
    if (!this.#client) throw this.#setupError!;
    const s = await this.#client.runtime(signal);
    const problems = compatibilityProblems(this.runtimeId, s);
    this.#incompatible = problems;
    const ok = problems.length === 0;
    return {
      runtime_id: this.runtimeId,
      kind: this.kind,
      display_name: this.displayName,
      status: ok ? s.status : "incompatible",
      protocol: s.protocol,
      capabilities: s.capabilities,
      profiles: s.profiles,
      worker_count: s.worker_count,
      can_create_worker: ok && s.status === "running" && s.capabilities.create_worker,
      os: s.os,
      arch: s.arch,
      diagnostics: problems,
    };
  }

  async listWorkers(signal?: AbortSignal): Promise<WorkerList> {
    const r = await this.#c.listWorkers(signal);
    return {
      workers: r.workers.map((w) => ({ ...w, runtime_id: this.runtimeId })),
      diagnostics: r.diagnostics.map((d) => ({
        ...d,
        message: `Runtime ${this.runtimeId}: ${d.message}`,
      })),
    };
  }

  async getWorker(workerId: string): Promise<WorkerDetail> {
    return this.#own(await this.#c.getWorker(workerId));
  }

  async createWorker(req: CreateWorkerRequest): Promise<WorkerDetail> {
    return this.#own(await this.#c.createWorker(req));
  }

  input(workerId: string, text: string): Promise<Ack> {
    return this.#c.input(workerId, text);
  }

  cancel(workerId: string): Promise<Ack> {
    return this.#c.cancel(workerId);
  }

  stop(workerId: string): Promise<Ack> {
    return this.#c.stop(workerId);
  }

  transcript(workerId: string, after: number, limit: number): Promise<TranscriptPage> {
    return this.#c.transcript(workerId, after, limit);
  }

  events(
    workerId: string,
    after: number,
    signal: AbortSignal,
  ): Promise<AsyncIterable<StreamFrame>> {
    return this.#c.openEvents(workerId, after, { signal, backoffMs: this.#backoff });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  #own(w: WorkerDetail): WorkerDetail {
    return { ...w, runtime_id: this.runtimeId };
  }

  toString(): string {
    return `RemoteRuntimeHandle(${this.runtimeId})`;
  }

  toJSON(): string {
    return this.toString();
  }

  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }
}
