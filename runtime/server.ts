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
import { ApiError, errorResponse, RUNTIME_ID_HEADER } from "../shared/mod.ts";
import {
  type Handlers,
  registerRoutes,
  RUNTIME_ROUTES,
  runtimeOpenApiDocument,
  type RuntimeRoutes,
  servedFrom,
  unrouted,
} from "../shared/routes/mod.ts";
import { DEFAULT_HIGH_WATER, sendPaced } from "../shared/backpressure.ts";
import { type ResilientServer, serveResilient } from "./resilient_serve.ts";
import type { Runtime } from "./runtime.ts";
import type { CapabilityVerifier } from "./capability.ts";
import { runtimeAuth } from "./auth.ts";
import { etagMatches } from "./worker_list.ts";

const JSON_TYPE = "application/json";

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
  app.notFound((c) => unrouted(RUNTIME_ROUTES, c.req.path));

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

  registerRoutes(app, RUNTIME_ROUTES, runtimeHandlers(runtime, opts));
  return app;
}

/** The `/v1` handlers: parse nothing themselves, call {@link Runtime}, shape the reply. */
function runtimeHandlers(
  runtime: Runtime,
  opts: RuntimeServerOptions,
): Handlers<RuntimeRoutes> {
  const ack = async (p: Promise<import("../shared/mod.ts").Ack>) => ({
    status: 200 as const,
    body: { ack: await p },
  });
  return {
    "runtime.get": () => ({
      status: 200,
      body: { runtime: runtime.summary(), diagnostics: runtime.runtimeDiagnostics() },
    }),
    "openapi.get": async (_in, c) => ({
      status: 200,
      body: servedFrom(await runtimeOpenApiDocument(), new URL(c.req.url).origin),
    }),
    "worker.list": ({ query }, c) => {
      // Text built once per change; a caller holding this version gets a 304 (issue 15).
      const { etag, json } = runtime.listWorkersJson(query.status);
      if (etagMatches(c.req.header("if-none-match"), etag)) {
        return new Response(null, { status: 304, headers: { etag } });
      }
      return new Response(json, { status: 200, headers: { "content-type": JSON_TYPE, etag } });
    },
    "worker.create": async ({ body }) => ({
      status: 201,
      body: { worker: await runtime.createWorker(await body()) },
    }),
    "worker.get": ({ params }) => ({
      status: 200,
      body: { worker: runtime.getWorker(params.worker_id) },
    }),
    "worker.rename": async ({ params, body }) => {
      runtime.getWorker(params.worker_id); // unknown worker wins over a bad body
      const { display_name } = await body();
      return {
        status: 200,
        body: { worker: await runtime.rename(params.worker_id, display_name) },
      };
    },
    "worker.delete": async ({ params }) => ({
      status: 200,
      body: { deleted: await runtime.deleteWorker(params.worker_id) },
    }),
    "worker.restore": async ({ params, query }) => ({
      status: 200,
      body: await runtime.restore(params.worker_id, query.dry_run),
    }),
    "worker.pause": ({ params }) => ack(runtime.pause(params.worker_id)),
    "worker.resume": ({ params }) => ack(runtime.resume(params.worker_id)),
    "worker.input": async ({ params, body }) => {
      runtime.getWorker(params.worker_id); // unknown worker wins over a bad body
      const { text } = await body();
      return { status: 202, body: { ack: await runtime.input(params.worker_id, text) } };
    },
    "worker.cancel": ({ params }) => ack(runtime.cancel(params.worker_id)),
    "worker.stop": ({ params }) => ack(runtime.stop(params.worker_id)),
    "worker.transcript": async ({ params, query }) => ({
      status: 200,
      body: await runtime.transcript(params.worker_id, query.after, query.limit),
    }),
    "worker.events": ({ params, query }, c) => {
      const id = params.worker_id;
      runtime.getWorker(id);
      if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
        throw new ApiError("invalid_request", "This route needs a WebSocket upgrade.");
      }
      const { socket, response } = Deno.upgradeWebSocket(c.req.raw, {
        idleTimeout: opts.pingIntervalSec ?? 30,
      });
      const sub = runtime.subscribe(id, query.after);
      const after = query.after;
      const opened = { type: "stream.opened", runtime_id: runtime.runtimeId, worker_id: id, after };
      pumpEvents(socket, sub, opts.wsHighWaterMark ?? DEFAULT_HIGH_WATER, JSON.stringify(opened));
      return response;
    },
  };
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
