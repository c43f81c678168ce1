/**
 * The Backend client for islands running in the browser: one typed `call` per operationId
 * of the Backend route table (`shared/routes/`), with the typed errors of
 * {@link WorkspaceClient} but no schema check, so zod is not shipped to the browser. Like
 * Hono's `hc`, it has no per-route code: a route added to the table is callable at once.
 * @module
 */
import { apiRequest, type RequestOptions, toWebSocketUrl } from "./api_request.ts";
import { type BackendAnswer, backendCall, type CallArgs } from "./routes/backend_call.ts";
import { apiPath, type BackendOperationId } from "./routes/backend_paths.ts";

export { ApiClientError, CSRF_HEADER } from "./api_request.ts";

/** Answer of add and edit: saved in the file and applied to the live registry. */
export type SavedConnection = BackendAnswer<"connection.add">;

export class BrowserClient {
  readonly baseUrl: string;
  readonly opts: RequestOptions;

  /** `baseUrl` defaults to the page's own origin. */
  constructor(baseUrl: string = globalThis.location?.origin ?? "", opts: RequestOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/$/, "");
    this.opts = opts;
  }

  /**
   * Any Backend operation by its operationId (`"worker.input"`, `"connection.add"`, …):
   * path values, query and body typed from the route table, the answer typed from its schema.
   */
  call<K extends BackendOperationId>(op: K, ...[input]: CallArgs<K>): Promise<BackendAnswer<K>> {
    return backendCall(this.baseUrl, this.opts, op, input) as Promise<BackendAnswer<K>>;
  }

  /** The WebSocket URL of a worker's event stream through the Backend. */
  eventsUrl(runtimeId: string, workerId: string, after = 0): string {
    return toWebSocketUrl(
      this.baseUrl,
      apiPath("worker.events", w(runtimeId, workerId), { after }),
    );
  }
}

function w(runtimeId: string, workerId: string) {
  return { runtime_id: runtimeId, worker_id: workerId };
}

/**
 * Conditional GET of the connection list for the live page: sends `If-None-Match` with the
 * last `ETag`, answers null on 304 (nothing changed, no body), else the list and its new ETag.
 * Bypasses the HTTP cache so that every poll reaches the Backend. (A function, not a method,
 * so only the page that polls ships it.)
 */
export async function listConnectionsIfChanged(
  client: BrowserClient,
  etag: string | null,
): Promise<{ list: BackendAnswer<"connection.list">; etag: string | null } | null> {
  let res: Response | undefined;
  const headers = new Headers(client.opts.headers);
  if (etag) headers.set("if-none-match", etag);
  const doFetch = client.opts.fetch ?? fetch;
  const list = await apiRequest(
    client.baseUrl,
    {
      ...client.opts,
      headers,
      fetch: async (input, init) => {
        res = await doFetch(input, { ...init, cache: "no-store" });
        // A 304 has no body; hand apiRequest a JSON null so it does not call it an error.
        return res.status === 304 ? new Response("null") : res;
      },
    },
    "GET",
    apiPath("connection.list"),
  );
  if (res?.status === 304) return null;
  return { list: list as BackendAnswer<"connection.list">, etag: res?.headers.get("etag") ?? null };
}
