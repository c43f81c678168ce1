/**
 * The typed client of the Backend's browser-facing API, used by the web app
 * (in the browser and during SSR) and by tests. It always sends the CSRF
 * proof header and parses every reply with the shared schemas.
 * @module
 */
import type { z } from "zod";
import {
  BackendAckEnvelopeSchema,
  BackendDeletedEnvelopeSchema,
  BackendInfoSchema,
  BackendRestoreEnvelopeSchema,
  BackendWorkerEnvelopeSchema,
  BackendWorkerListSchema,
  HostListSchema,
  RuntimeEntryEnvelopeSchema,
  RuntimeListSchema,
} from "./backend_dto.ts";
import {
  ApiClientError,
  apiRequest,
  CSRF_HEADER,
  type RequestOptions,
  toWebSocketUrl,
} from "./api_request.ts";
import {
  type CreateWorkerRequest,
  TranscriptEnvelopeSchema,
  type TranscriptPage,
  type WorkerStatus,
} from "./runtime_dto.ts";

export type ClientOptions = RequestOptions;
export { ApiClientError, CSRF_HEADER };

export class WorkspaceClient {
  readonly baseUrl: string;
  #opts: ClientOptions;

  constructor(baseUrl: string, opts: ClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/$/, "");
    this.#opts = opts;
  }

  listRuntimes() {
    return this.#get("/api/runtimes", RuntimeListSchema);
  }
  getRuntime(runtimeId: string) {
    return this.#get(`/api/runtimes/${enc(runtimeId)}`, RuntimeEntryEnvelopeSchema);
  }
  /** Workers of every runtime; `status` keeps only those in that state. */
  listAllWorkers(status?: WorkerStatus) {
    return this.#get(`/api/workers${statusQuery(status)}`, BackendWorkerListSchema);
  }
  backendInfo() {
    return this.#get("/api/backend", BackendInfoSchema);
  }
  hosts() {
    return this.#get("/api/hosts", HostListSchema);
  }
  listWorkers(runtimeId: string, status?: WorkerStatus) {
    return this.#get(
      `/api/runtimes/${enc(runtimeId)}/workers${statusQuery(status)}`,
      BackendWorkerListSchema,
    );
  }
  createWorker(runtimeId: string, req: CreateWorkerRequest = {}) {
    return this.#send(
      "POST",
      `/api/runtimes/${enc(runtimeId)}/workers`,
      req,
      BackendWorkerEnvelopeSchema,
    );
  }
  getWorker(runtimeId: string, workerId: string) {
    return this.#get(this.#worker(runtimeId, workerId), BackendWorkerEnvelopeSchema);
  }
  input(runtimeId: string, workerId: string, text: string) {
    return this.#send(
      "POST",
      `${this.#worker(runtimeId, workerId)}/input`,
      { text },
      BackendAckEnvelopeSchema,
    );
  }
  cancel(runtimeId: string, workerId: string) {
    return this.#send(
      "POST",
      `${this.#worker(runtimeId, workerId)}/cancel`,
      undefined,
      BackendAckEnvelopeSchema,
    );
  }
  stop(runtimeId: string, workerId: string) {
    return this.#send(
      "POST",
      `${this.#worker(runtimeId, workerId)}/stop`,
      undefined,
      BackendAckEnvelopeSchema,
    );
  }
  /** Reopens a stopped worker; `dryRun` only asks whether it can. */
  restore(runtimeId: string, workerId: string, dryRun = false) {
    return this.#send(
      "POST",
      `${this.#worker(runtimeId, workerId)}/restore${dryRun ? "?dry_run=true" : ""}`,
      undefined,
      BackendRestoreEnvelopeSchema,
    );
  }
  pause(runtimeId: string, workerId: string) {
    return this.#send(
      "POST",
      `${this.#worker(runtimeId, workerId)}/pause`,
      undefined,
      BackendAckEnvelopeSchema,
    );
  }
  resume(runtimeId: string, workerId: string) {
    return this.#send(
      "POST",
      `${this.#worker(runtimeId, workerId)}/resume`,
      undefined,
      BackendAckEnvelopeSchema,
    );
  }
  rename(runtimeId: string, workerId: string, displayName: string) {
    return this.#send(
      "PATCH",
      this.#worker(runtimeId, workerId),
      { display_name: displayName },
      BackendWorkerEnvelopeSchema,
    );
  }
  deleteWorker(runtimeId: string, workerId: string) {
    return this.#send(
      "DELETE",
      this.#worker(runtimeId, workerId),
      undefined,
      BackendDeletedEnvelopeSchema,
    );
  }
  transcript(
    runtimeId: string,
    workerId: string,
    after = 0,
    limit?: number,
  ): Promise<TranscriptPage> {
    const q = new URLSearchParams({ after: String(after) });
    if (limit !== undefined) q.set("limit", String(limit));
    return this.#get(
      `${this.#worker(runtimeId, workerId)}/transcript?${q}`,
      TranscriptEnvelopeSchema,
    );
  }
  /** The WebSocket URL of a worker's event stream through the Backend. */
  eventsUrl(runtimeId: string, workerId: string, after = 0): string {
    return toWebSocketUrl(
      this.baseUrl,
      `${this.#worker(runtimeId, workerId)}/events?after=${after}`,
    );
  }

  /** GET helper for routes added later (settings) that still want the typed errors. */
  get<S extends z.ZodType>(path: string, schema: S): Promise<z.infer<S>> {
    return this.#get(path, schema);
  }
  /** Mutating helper for routes added later (settings). */
  send<S extends z.ZodType>(
    method: "POST" | "DELETE" | "PUT" | "PATCH",
    path: string,
    body: unknown,
    schema: S,
  ): Promise<z.infer<S>> {
    return this.#send(method, path, body, schema);
  }

  #worker(runtimeId: string, workerId: string) {
    return `/api/runtimes/${enc(runtimeId)}/workers/${enc(workerId)}`;
  }

  #get<S extends z.ZodType>(path: string, schema: S): Promise<z.infer<S>> {
    return this.#request("GET", path, undefined, schema);
  }

  #send<S extends z.ZodType>(method: string, path: string, body: unknown, schema: S) {
    return this.#request(method, path, body, schema);
  }

  async #request<S extends z.ZodType>(
    method: string,
    path: string,
    body: unknown,
    schema: S,
  ): Promise<z.infer<S>> {
    const data = await apiRequest(this.baseUrl, this.#opts, method, path, body);
    const r = schema.safeParse(data);
    if (!r.success) {
      throw new ApiClientError(200, {
        error: {
          code: "remote_runtime_malformed_response",
          message: "The Backend's answer did not match the API schema.",
        },
        diagnostics: [],
      });
    }
    return r.data;
  }
}

function statusQuery(status?: WorkerStatus): string {
  return status ? `?status=${enc(status)}` : "";
}

function enc(s: string) {
  return encodeURIComponent(s);
}
