/**
 * The Backend client for islands running in the browser: same calls and
 * typed errors as {@link WorkspaceClient}, without runtime schema checks so
 * that zod is not shipped to the browser. Types come from the shared schemas.
 * @module
 */
import { apiRequest, type RequestOptions, toWebSocketUrl } from "./api_request.ts";
import type {
  AddConnectionRequest,
  ConnectionList,
  ConnectionRow,
  EditConnectionRequest,
  ProbeResult,
  TestCandidateRequest,
} from "./settings_dto.ts";
import type {
  Ack,
  CreateWorkerRequest,
  RestoreResult,
  TranscriptPage,
  WorkerDetail,
  WorkerStatus,
  WorkerSummary,
} from "./runtime_dto.ts";
import type { RuntimeEntry } from "./backend_dto.ts";
import type { Diagnostic } from "./error_codes.ts";

export { ApiClientError, CSRF_HEADER } from "./api_request.ts";

const enc = encodeURIComponent;

/** Answer of add and edit: saved in the file and applied to the live registry. */
export interface SavedConnection {
  connection: ConnectionRow;
  applied: true;
  restart_required: false;
}
const CONNECTIONS = "/api/settings/runtime-connections";

export class BrowserClient {
  readonly baseUrl: string;
  #opts: RequestOptions;

  /** `baseUrl` defaults to the page's own origin. */
  constructor(baseUrl: string = globalThis.location?.origin ?? "", opts: RequestOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/$/, "");
    this.#opts = opts;
  }

  #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return apiRequest(this.baseUrl, this.#opts, method, path, body) as Promise<T>;
  }

  #worker(runtimeId: string, workerId: string): string {
    return `/api/runtimes/${enc(runtimeId)}/workers/${enc(workerId)}`;
  }

  listRuntimes(): Promise<{ runtimes: RuntimeEntry[]; diagnostics: Diagnostic[] }> {
    return this.#call("GET", "/api/runtimes");
  }
  listConnections(): Promise<ConnectionList> {
    return this.#call("GET", CONNECTIONS);
  }
  /**
   * Conditional GET of the connection list for the live page: sends `If-None-Match` with the
   * last `ETag`, answers null on 304 (nothing changed, no body), else the list and its new ETag.
   * Bypasses the HTTP cache so that every poll reaches the Backend.
   */
  async listConnectionsIfChanged(
    etag: string | null,
  ): Promise<{ list: ConnectionList; etag: string | null } | null> {
    let res: Response | undefined;
    const headers = new Headers(this.#opts.headers);
    if (etag) headers.set("if-none-match", etag);
    const doFetch = this.#opts.fetch ?? fetch;
    const list = await apiRequest(
      this.baseUrl,
      {
        ...this.#opts,
        headers,
        fetch: async (input, init) => {
          res = await doFetch(input, { ...init, cache: "no-store" });
          // A 304 has no body; hand apiRequest a JSON null so it does not call it an error.
          return res.status === 304 ? new Response("null") : res;
        },
      },
      "GET",
      CONNECTIONS,
    );
    if (res?.status === 304) return null;
    return { list: list as ConnectionList, etag: res?.headers.get("etag") ?? null };
  }
  addConnection(req: AddConnectionRequest): Promise<SavedConnection> {
    return this.#call("POST", CONNECTIONS, req);
  }
  editConnection(id: string, req: EditConnectionRequest): Promise<SavedConnection> {
    return this.#call("PATCH", `${CONNECTIONS}/${enc(id)}`, req);
  }
  /** `force` deletes even when the runtime still has workers that are not stopped. */
  deleteConnection(
    id: string,
    force = false,
  ): Promise<{ deleted: string; applied: true; restart_required: false }> {
    return this.#call("DELETE", `${CONNECTIONS}/${enc(id)}${force ? "?force=true" : ""}`);
  }
  testConnection(id: string): Promise<ProbeResult> {
    return this.#call("POST", `${CONNECTIONS}/${enc(id)}/test`);
  }
  /** Probes an unsaved candidate ("Save & test"); nothing is persisted. */
  testCandidate(req: TestCandidateRequest): Promise<ProbeResult> {
    return this.#call("POST", `${CONNECTIONS}/test`, req);
  }
  createWorker(runtimeId: string, req: CreateWorkerRequest): Promise<{ worker: WorkerDetail }> {
    return this.#call("POST", `/api/runtimes/${enc(runtimeId)}/workers`, req);
  }
  listWorkers(
    runtimeId: string,
    status?: WorkerStatus,
  ): Promise<{ workers: WorkerSummary[]; diagnostics: Diagnostic[] }> {
    const q = status ? `?status=${enc(status)}` : "";
    return this.#call("GET", `/api/runtimes/${enc(runtimeId)}/workers${q}`);
  }
  getWorker(runtimeId: string, workerId: string): Promise<{ worker: WorkerDetail }> {
    return this.#call("GET", this.#worker(runtimeId, workerId));
  }
  input(runtimeId: string, workerId: string, text: string): Promise<{ ack: Ack }> {
    return this.#call("POST", `${this.#worker(runtimeId, workerId)}/input`, { text });
  }
  cancel(runtimeId: string, workerId: string): Promise<{ ack: Ack }> {
    return this.#call("POST", `${this.#worker(runtimeId, workerId)}/cancel`);
  }
  stop(runtimeId: string, workerId: string): Promise<{ ack: Ack }> {
    return this.#call("POST", `${this.#worker(runtimeId, workerId)}/stop`);
  }
  /** Reopens a stopped worker; `dryRun` only asks whether it can. */
  restore(runtimeId: string, workerId: string, dryRun = false): Promise<RestoreResult> {
    const q = dryRun ? "?dry_run=true" : "";
    return this.#call("POST", `${this.#worker(runtimeId, workerId)}/restore${q}`);
  }
  pause(runtimeId: string, workerId: string): Promise<{ ack: Ack }> {
    return this.#call("POST", `${this.#worker(runtimeId, workerId)}/pause`);
  }
  resume(runtimeId: string, workerId: string): Promise<{ ack: Ack }> {
    return this.#call("POST", `${this.#worker(runtimeId, workerId)}/resume`);
  }
  rename(
    runtimeId: string,
    workerId: string,
    displayName: string,
  ): Promise<{ worker: WorkerDetail }> {
    return this.#call("PATCH", this.#worker(runtimeId, workerId), { display_name: displayName });
  }
  deleteWorker(
    runtimeId: string,
    workerId: string,
  ): Promise<{ deleted: { runtime_id: string; worker_id: string } }> {
    return this.#call("DELETE", this.#worker(runtimeId, workerId));
  }
  transcript(runtimeId: string, workerId: string, after = 0, limit = 500): Promise<TranscriptPage> {
    return this.#call(
      "GET",
      `${this.#worker(runtimeId, workerId)}/transcript?after=${after}&limit=${limit}`,
    );
  }
  /** The WebSocket URL of a worker's event stream through the Backend. */
  eventsUrl(runtimeId: string, workerId: string, after = 0): string {
    return toWebSocketUrl(
      this.baseUrl,
      `${this.#worker(runtimeId, workerId)}/events?after=${after}`,
    );
  }
}
