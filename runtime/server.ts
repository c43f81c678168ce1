/**
 * The Runtime's REST command API and WebSocket event API (DESIGN §4).
 *
 * Browsers never call a Runtime: the Workspace Backend is the only client.
 * It owns the endpoint and the token and re-exposes workers under
 * `runtime_id + worker_id`. Handlers here parse, call {@link Runtime}, and
 * shape the reply; they never re-implement worker semantics.
 * @module
 */
import { Hono } from "hono";
import {
  ApiError,
  CreateWorkerRequestSchema,
  errorResponse,
  EventsQuerySchema,
  InputRequestSchema,
  parseJsonBody,
  parseWith,
  RenameWorkerRequestSchema,
  RestoreQuerySchema,
  RUNTIME_ID_HEADER,
  TranscriptQuerySchema,
  WorkerListQuerySchema,
} from "../shared/mod.ts";
import { DEFAULT_HIGH_WATER, sendPaced } from "../shared/backpressure.ts";
import { type ResilientServer, serveResilient } from "./resilient_serve.ts";
import type { Runtime } from "./runtime.ts";
import type { CapabilityVerifier } from "./capability.ts";
import { runtimeAuth } from "./auth.ts";

export interface RuntimeServerOptions {
  runtime: Runtime;
  /** When set, every route requires `Authorization: Bearer <token>`. */
  token?: string;
  /**
   * Trusted Backend keys: every route then requires a capability token from one of them (or
   * the bearer token, when both are set).
   */
  trust?: CapabilityVerifier;
  /** Seconds between WebSocket pings; a peer that misses a pong is dropped (default 30). */
  pingIntervalSec?: number;
  /** Bytes buffered on a WS before the sender waits for the socket to drain. */
  wsHighWaterMark?: number;
}

/** Builds the Hono app for a Runtime; serve it with {@link serveRuntime} or `Deno.serve`. */
export function createRuntimeApp(opts: RuntimeServerOptions): Hono {
  const { runtime } = opts;
  const app = new Hono();

  app.onError((err) => {
    if (err instanceof ApiError) return errorResponse(err);
    console.error(`runtime ${runtime.runtimeId}: unexpected error: ${err.name}`);
    return errorResponse(new ApiError("internal_error", "The runtime hit an unexpected error."));
  });
  // A known path with a method it does not take answers 405 + Allow (DESIGN §4).
  app.notFound((c) => {
    const allow = allowedMethods(c.req.path);
    if (allow) {
      return errorResponse(
        new ApiError("method_not_allowed", `This path takes ${allow.join(", ")}.`),
        { allow: allow.join(", ") },
      );
    }
    return errorResponse(new ApiError("not_found", "No such route."));
  });

  // Every answer, errors included, names this runtime (DESIGN §4): the Backend
  // compares it with the id it expects and refuses an answer from another runtime.
  const id = runtime.runtimeId;
  app.use("*", async (c, next) => {
    await next();
    c.res.headers.set(RUNTIME_ID_HEADER, id);
  });

  if (opts.token !== undefined || opts.trust !== undefined) {
    app.use("*", runtimeAuth(opts.token, opts.trust));
  }

  app.get(
    "/v1/runtime",
    (c) => c.json({ runtime: runtime.summary(), diagnostics: runtime.runtimeDiagnostics() }),
  );

  app.get("/v1/workers", (c) => {
    const { status } = parseWith(WorkerListQuerySchema, c.req.query());
    return c.json({ workers: runtime.listWorkers(status), diagnostics: runtime.diagnostics });
  });

  app.post("/v1/workers", async (c) => {
    const body = await parseJsonBody(c.req.raw, CreateWorkerRequestSchema);
    return c.json({ worker: await runtime.createWorker(body) }, 201);
  });

  app.get(
    "/v1/workers/:worker_id",
    (c) => c.json({ worker: runtime.getWorker(c.req.param("worker_id")) }),
  );

  app.patch("/v1/workers/:worker_id", async (c) => {
    const id = c.req.param("worker_id");
    runtime.getWorker(id); // unknown worker wins over a bad body
    const { display_name } = await parseJsonBody(c.req.raw, RenameWorkerRequestSchema);
    return c.json({ worker: await runtime.rename(id, display_name) });
  });

  app.delete(
    "/v1/workers/:worker_id",
    async (c) => c.json({ deleted: await runtime.deleteWorker(c.req.param("worker_id")) }),
  );

  app.post("/v1/workers/:worker_id/restore", async (c) => {
    const { dry_run } = parseWith(RestoreQuerySchema, c.req.query());
    return c.json(await runtime.restore(c.req.param("worker_id"), dry_run));
  });

  app.post(
    "/v1/workers/:worker_id/pause",
    async (c) => c.json({ ack: await runtime.pause(c.req.param("worker_id")) }),
  );

  app.post(
    "/v1/workers/:worker_id/resume",
    async (c) => c.json({ ack: await runtime.resume(c.req.param("worker_id")) }),
  );

  app.post("/v1/workers/:worker_id/input", async (c) => {
    const id = c.req.param("worker_id");
    runtime.getWorker(id); // unknown worker wins over a bad body
    const { text } = await parseJsonBody(c.req.raw, InputRequestSchema);
    return c.json({ ack: await runtime.input(id, text) }, 202);
  });

  app.post(
    "/v1/workers/:worker_id/cancel",
    async (c) => c.json({ ack: await runtime.cancel(c.req.param("worker_id")) }),
  );

  app.post(
    "/v1/workers/:worker_id/stop",
    async (c) => c.json({ ack: await runtime.stop(c.req.param("worker_id")) }),
  );

  app.get("/v1/workers/:worker_id/transcript", async (c) => {
    const q = parseWith(TranscriptQuerySchema, c.req.query());
    return c.json(await runtime.transcript(c.req.param("worker_id"), q.after, q.limit));
  });

  app.get("/v1/workers/:worker_id/events", (c) => {
    const id = c.req.param("worker_id");
    const { after } = parseWith(EventsQuerySchema, c.req.query());
    runtime.getWorker(id);
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new ApiError("invalid_request", "This route needs a WebSocket upgrade.");
    }
    const { socket, response } = Deno.upgradeWebSocket(c.req.raw, {
      idleTimeout: opts.pingIntervalSec ?? 30,
    });
    const sub = runtime.subscribe(id, after);
    const opened = { type: "stream.opened", runtime_id: runtime.runtimeId, worker_id: id, after };
    pumpEvents(socket, sub, opts.wsHighWaterMark ?? DEFAULT_HIGH_WATER, JSON.stringify(opened));
    return response;
  });

  return app;
}

/** Every path this runtime answers, with its methods (GET implies HEAD in Hono). */
const KNOWN_PATHS: [RegExp, string[]][] = [
  [/^\/v1\/runtime$/, ["GET"]],
  [/^\/v1\/workers$/, ["GET", "POST"]],
  [/^\/v1\/workers\/[^/]+$/, ["GET", "PATCH", "DELETE"]],
  [/^\/v1\/workers\/[^/]+\/(input|cancel|stop|restore|pause|resume)$/, ["POST"]],
  [/^\/v1\/workers\/[^/]+\/(transcript|events)$/, ["GET"]],
];

/** The methods a known path takes, or undefined for an unknown path. */
export function allowedMethods(path: string): string[] | undefined {
  for (const [re, methods] of KNOWN_PATHS) if (re.test(path)) return methods;
  return undefined;
}

/** WS close code used when the runtime ends a stream for a typed reason. */
export const WS_CLOSE_TYPED = 4000;

function pumpEvents(
  socket: WebSocket,
  sub: ReturnType<Runtime["subscribe"]>,
  highWater: number,
  openedFrame: string,
) {
  socket.addEventListener("close", () => sub.close());
  socket.addEventListener("error", () => sub.close());
  socket.addEventListener("open", async () => {
    let lastSent = sub.cursor;
    try {
      socket.send(openedFrame);
      // Pull policy of the one backpressure loop: the subscription's own bounded queue closes
      // it as lagging when this socket cannot keep up.
      for (let e = await sub.next(); e; e = await sub.next()) {
        if (!(await sendPaced(socket, JSON.stringify(e), highWater))) return;
        lastSent = e.seq;
      }
      const why = sub.closeReason;
      if (why?.code === "runtime_stopping" && socket.readyState === WebSocket.OPEN) {
        // Graceful stop (DESIGN §11): a clean end the client resumes from with its last seq.
        socket.send(JSON.stringify({ type: "stream.ended", reason: "shutdown", after: lastSent }));
        socket.close(1001, "shutdown");
      } else if (why && socket.readyState === WebSocket.OPEN) {
        socket.send(JSON.stringify({
          type: "stream.closed",
          code: why.code,
          message: why.message,
          after: lastSent,
        }));
        socket.close(WS_CLOSE_TYPED, why.code);
      }
    } catch {
      sub.close();
      if (socket.readyState === WebSocket.OPEN) socket.close(1011, "internal_error");
    }
  });
}

export interface ServeRuntimeOptions extends RuntimeServerOptions {
  hostname: string;
  port: number;
  signal: AbortSignal;
  onListen?: (addr: Deno.NetAddr) => void;
  /** Listener loss (EMFILE) and re-listen reports. */
  onError?: (what: string, err: unknown) => void;
}

/** Serves a Runtime over HTTP; the listener is re-established after EMFILE. */
export function serveRuntime(opts: ServeRuntimeOptions): ResilientServer {
  const app = createRuntimeApp(opts);
  return serveResilient({
    hostname: opts.hostname,
    port: opts.port,
    signal: opts.signal,
    onListen: opts.onListen,
    onError: opts.onError,
  }, app.fetch);
}
