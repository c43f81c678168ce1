/**
 * The typed client of the Backend's browser-facing API, used by the web app
 * (in the browser and during SSR) and by tests. It always sends the CSRF
 * proof header and parses every reply with the shared schemas.
 * @module
 */
import type { z } from "zod";
import {
  ApiClientError,
  apiRequest,
  CSRF_HEADER,
  type RequestOptions,
  toWebSocketUrl,
} from "./api_request.ts";
import type { CreateWorkerRequest, WorkerStatus } from "./runtime_dto.ts";
import { BACKEND_ROUTES } from "./routes/backend.ts";
import { type BackendAnswer, type CallArgs, callPath } from "./routes/backend_call.ts";
import { apiPath, BACKEND_PATHS, type BackendOperationId } from "./routes/backend_paths.ts";

export type ClientOptions = RequestOptions;
export { ApiClientError, CSRF_HEADER };

export class WorkspaceClient {
  readonly baseUrl: string;
  #opts: ClientOptions;

  constructor(baseUrl: string, opts: ClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/$/, "");
    this.#opts = opts;
  }

  /**
   * Any Backend operation by its operationId: path and method from the route table, the
   * answer checked against the route's documented success schema.
   */
  call<K extends BackendOperationId>(op: K, ...[input]: CallArgs<K>): Promise<BackendAnswer<K>> {
    const schema = Object.values(
      BACKEND_ROUTES[op].responses as Record<number, {
        schema?: z.ZodType;
      }>,
    ).find((r) => r.schema)?.schema;
    if (!schema) throw new Error(`${op} has no JSON answer`);
    const { method } = BACKEND_PATHS[op];
    return this.#request(method, callPath(op, input), input?.body, schema) as Promise<
      BackendAnswer<K>
    >;
  }

  listRuntimes() {
    return this.call("runtime.list");
  }
  getRuntime(runtimeId: string) {
    return this.call("runtime.get", { params: { runtime_id: runtimeId } });
  }
  /** Workers of every runtime; `status` keeps only those in that state. */
  listAllWorkers(status?: WorkerStatus) {
    return this.call("worker.list_all", { query: { status } });
  }
  backendInfo() {
    return this.call("backend.get");
  }
  hosts() {
    return this.call("host.list");
  }
  listConnections() {
    return this.call("connection.list");
  }
  listWorkers(runtimeId: string, status?: WorkerStatus) {
    return this.call("worker.list", { params: { runtime_id: runtimeId }, query: { status } });
  }
  createWorker(runtimeId: string, req: CreateWorkerRequest = {}) {
    return this.call("worker.create", { params: { runtime_id: runtimeId }, body: req });
  }
  getWorker(runtimeId: string, workerId: string) {
    return this.call("worker.get", { params: w(runtimeId, workerId) });
  }
  input(runtimeId: string, workerId: string, text: string) {
    return this.call("worker.input", { params: w(runtimeId, workerId), body: { text } });
  }
  cancel(runtimeId: string, workerId: string) {
    return this.call("worker.cancel", { params: w(runtimeId, workerId) });
  }
  stop(runtimeId: string, workerId: string) {
    return this.call("worker.stop", { params: w(runtimeId, workerId) });
  }
  /** Reopens a stopped worker; `dryRun` only asks whether it can. */
  restore(runtimeId: string, workerId: string, dryRun = false) {
    return this.call("worker.restore", {
      params: w(runtimeId, workerId),
      query: { dry_run: dryRun ? "true" : undefined },
    });
  }
  pause(runtimeId: string, workerId: string) {
    return this.call("worker.pause", { params: w(runtimeId, workerId) });
  }
  resume(runtimeId: string, workerId: string) {
    return this.call("worker.resume", { params: w(runtimeId, workerId) });
  }
  rename(runtimeId: string, workerId: string, displayName: string) {
    return this.call("worker.rename", {
      params: w(runtimeId, workerId),
      body: { display_name: displayName },
    });
  }
  deleteWorker(runtimeId: string, workerId: string) {
    return this.call("worker.delete", { params: w(runtimeId, workerId) });
  }
  transcript(runtimeId: string, workerId: string, after = 0, limit?: number) {
    return this.call("worker.transcript", {
      params: w(runtimeId, workerId),
      query: { after, limit },
    });
  }
  /** The WebSocket URL of a worker's event stream through the Backend. */
  eventsUrl(runtimeId: string, workerId: string, after = 0): string {
    return toWebSocketUrl(
      this.baseUrl,
      apiPath("worker.events", w(runtimeId, workerId), { after }),
    );
  }

  /** GET of any path with the typed errors (tests that probe paths outside the table). */
  get<S extends z.ZodType>(path: string, schema: S): Promise<z.infer<S>> {
    return this.#get(path, schema);
  }
  /** Any mutating call with the typed errors (tests that probe paths outside the table). */
  send<S extends z.ZodType>(
    method: "POST" | "DELETE" | "PUT" | "PATCH",
    path: string,
    body: unknown,
    schema: S,
  ): Promise<z.infer<S>> {
    return this.#send(method, path, body, schema);
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

function w(runtimeId: string, workerId: string) {
  return { runtime_id: runtimeId, worker_id: workerId };
}
