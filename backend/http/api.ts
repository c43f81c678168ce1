/**
 * The Backend's browser-facing worker and runtime API (DESIGN §6). Every
 * route is declared once with its zod schemas, which both validate requests
 * and generate `GET /api/openapi.json`. Handlers stay thin over the registry.
 * @module
 */
import { createRoute, OpenAPIHono, type RouteConfig } from "@hono/zod-openapi";
import { z } from "zod";
import {
  ApiError,
  BackendAckEnvelopeSchema,
  BackendDeletedEnvelopeSchema,
  type BackendInfo,
  BackendInfoSchema,
  BackendRestoreEnvelopeSchema,
  BackendWorkerEnvelopeSchema,
  BackendWorkerListSchema,
  CreateWorkerRequestSchema,
  describeZodError,
  ErrorBodySchema,
  EventsQuerySchema,
  HostListSchema,
  InputRequestSchema,
  isWorkerId,
  RenameWorkerRequestSchema,
  RestoreQuerySchema,
  RuntimeEntryEnvelopeSchema,
  RuntimeListSchema,
  TranscriptEnvelopeSchema,
  TranscriptQuerySchema,
  WorkerListQuerySchema,
} from "../../shared/mod.ts";
import { type OpenStreams, proxyEvents } from "./events_proxy.ts";
import type { LiveHub } from "./live_hub.ts";
import { JsonBody, type RuntimeHandle, type RuntimeRegistry } from "../registry/mod.ts";
import type { Context } from "hono";

export interface ApiDeps {
  registry: RuntimeRegistry;
  /** Open browser event streams (drained on a graceful stop). */
  streams?: OpenStreams;
  /** The live lists behind `GET /api/live`. */
  live?: LiveHub;
  /** The Backend's own read-only settings for `GET /api/backend`. */
  info: () => BackendInfo;
}

const json = <S extends z.ZodType>(schema: S, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
const errors = {
  400: json(ErrorBodySchema, "Invalid id or request"),
  404: json(ErrorBodySchema, "Unknown runtime or worker"),
  409: json(ErrorBodySchema, "Conflict (busy, stopped)"),
  502: json(ErrorBodySchema, "Remote runtime unavailable or malformed"),
  504: json(ErrorBodySchema, "Remote runtime timed out"),
};
const RuntimeParams = z.object({ runtime_id: z.string() });
const WorkerParams = z.object({ runtime_id: z.string(), worker_id: z.string() });

function route<R extends RouteConfig>(r: R): R {
  return createRoute(r);
}

const routes = {
  listRuntimes: route({
    method: "get",
    path: "/api/runtimes",
    summary: "Live registry projection of every runtime",
    responses: { 200: json(RuntimeListSchema, "Runtimes") },
  }),
  getRuntime: route({
    method: "get",
    path: "/api/runtimes/{runtime_id}",
    request: { params: RuntimeParams },
    responses: { 200: json(RuntimeEntryEnvelopeSchema, "Runtime"), ...errors },
  }),
  listAllWorkers: route({
    method: "get",
    path: "/api/workers",
    summary: "Workers of every runtime, queried in parallel under a deadline",
    request: { query: WorkerListQuerySchema },
    responses: { 200: json(BackendWorkerListSchema, "Workers"), 400: errors[400] },
  }),
  backend: route({
    method: "get",
    path: "/api/backend",
    summary: "The Backend's own settings (read-only)",
    responses: { 200: json(BackendInfoSchema, "Backend") },
  }),
  hosts: route({
    method: "get",
    path: "/api/hosts",
    responses: { 200: json(HostListSchema, "Hosts") },
  }),
  listWorkers: route({
    method: "get",
    path: "/api/runtimes/{runtime_id}/workers",
    request: { params: RuntimeParams, query: WorkerListQuerySchema },
    responses: { 200: json(BackendWorkerListSchema, "Workers"), ...errors },
  }),
  createWorker: route({
    method: "post",
    path: "/api/runtimes/{runtime_id}/workers",
    request: {
      params: RuntimeParams,
      body: { content: { "application/json": { schema: CreateWorkerRequestSchema } } },
    },
    responses: { 201: json(BackendWorkerEnvelopeSchema, "Created worker"), ...errors },
  }),
  getWorker: route({
    method: "get",
    path: "/api/runtimes/{runtime_id}/workers/{worker_id}",
    request: { params: WorkerParams },
    responses: { 200: json(BackendWorkerEnvelopeSchema, "Worker"), ...errors },
  }),
  input: route({
    method: "post",
    path: "/api/runtimes/{runtime_id}/workers/{worker_id}/input",
    request: {
      params: WorkerParams,
      body: { content: { "application/json": { schema: InputRequestSchema } }, required: true },
    },
    responses: { 202: json(BackendAckEnvelopeSchema, "Input accepted"), ...errors },
  }),
  cancel: route({
    method: "post",
    path: "/api/runtimes/{runtime_id}/workers/{worker_id}/cancel",
    request: { params: WorkerParams },
    responses: { 200: json(BackendAckEnvelopeSchema, "Turn cancelled"), ...errors },
  }),
  stop: route({
    method: "post",
    path: "/api/runtimes/{runtime_id}/workers/{worker_id}/stop",
    request: { params: WorkerParams },
    responses: { 200: json(BackendAckEnvelopeSchema, "Worker stopped"), ...errors },
  }),
  restore: route({
    method: "post",
    path: "/api/runtimes/{runtime_id}/workers/{worker_id}/restore",
    summary: "Reopens a stopped worker as idle; `?dry_run=true` only checks whether it can",
    request: { params: WorkerParams, query: RestoreQuerySchema },
    responses: { 200: json(BackendRestoreEnvelopeSchema, "Restored (or could be)"), ...errors },
  }),
  pause: route({
    method: "post",
    path: "/api/runtimes/{runtime_id}/workers/{worker_id}/pause",
    request: { params: WorkerParams },
    responses: {
      200: json(BackendAckEnvelopeSchema, "Turn paused"),
      ...errors,
      501: json(ErrorBodySchema, "The worker's engine cannot pause"),
    },
  }),
  resume: route({
    method: "post",
    path: "/api/runtimes/{runtime_id}/workers/{worker_id}/resume",
    request: { params: WorkerParams },
    responses: {
      200: json(BackendAckEnvelopeSchema, "Turn resumed"),
      ...errors,
      501: json(ErrorBodySchema, "The worker's engine cannot pause"),
    },
  }),
  rename: route({
    method: "patch",
    path: "/api/runtimes/{runtime_id}/workers/{worker_id}",
    request: {
      params: WorkerParams,
      body: {
        content: { "application/json": { schema: RenameWorkerRequestSchema } },
        required: true,
      },
    },
    responses: { 200: json(BackendWorkerEnvelopeSchema, "Renamed worker"), ...errors },
  }),
  deleteWorker: route({
    method: "delete",
    path: "/api/runtimes/{runtime_id}/workers/{worker_id}",
    summary: "Removes a stopped worker and its log (409 worker_not_stopped otherwise)",
    request: { params: WorkerParams },
    responses: { 200: json(BackendDeletedEnvelopeSchema, "Deleted"), ...errors },
  }),
  transcript: route({
    method: "get",
    path: "/api/runtimes/{runtime_id}/workers/{worker_id}/transcript",
    request: { params: WorkerParams, query: TranscriptQuerySchema },
    responses: { 200: json(TranscriptEnvelopeSchema, "Transcript page"), ...errors },
  }),
  live: route({
    method: "get",
    path: "/api/live",
    summary: "WebSocket: live workers/runtimes lists (subscribe, then snapshot, upsert, remove)",
    responses: {
      101: { description: "Switching to WebSocket" },
      400: json(ErrorBodySchema, "Not a WebSocket upgrade"),
    },
  }),
  events: route({
    method: "get",
    path: "/api/runtimes/{runtime_id}/workers/{worker_id}/events",
    summary: "WebSocket: WorkerEvent frames from `after`, then live, plus stream.* control frames",
    request: { params: WorkerParams, query: EventsQuerySchema },
    responses: { 101: { description: "Switching to WebSocket" }, ...errors },
  }),
};

/**
 * A handler's JSON answer: bytes a remote runtime sent go out as they are (the lean proxy
 * path, issue 15); an object is serialised once.
 */
// deno-lint-ignore no-explicit-any
function reply(c: Context, body: JsonBody | object, status: 200): any {
  return body instanceof JsonBody ? body.response(status) : c.json(body, status);
}

/** Turns a failed request validation into the typed error shape. */
export function validationHook(
  result: { success: boolean; error?: unknown },
): Response | undefined {
  if (!result.success && result.error instanceof z.ZodError) {
    throw new ApiError("invalid_request", describeZodError(result.error));
  }
  return undefined;
}

/** Registers the worker/runtime routes on `app`. */
export function registerApiRoutes(app: OpenAPIHono, deps: ApiDeps): void {
  const { registry } = deps;

  /** Resolves the handle for a worker route; checks both ids before any runtime call. */
  const target = (p: { runtime_id: string; worker_id: string }): RuntimeHandle => {
    const h = registry.get(p.runtime_id);
    if (!isWorkerId(p.worker_id)) {
      throw new ApiError("invalid_id", "Worker ids are UUIDv7 strings generated by the runtime.");
    }
    return h;
  };

  app.openapi(routes.listRuntimes, async (c) => c.json(await registry.listRuntimes(), 200));

  app.openapi(
    routes.getRuntime,
    async (c) => c.json({ runtime: await registry.describe(c.req.valid("param").runtime_id) }, 200),
  );

  app.openapi(
    routes.listAllWorkers,
    async (c) => c.json(await registry.listWorkers(c.req.valid("query").status), 200),
  );

  app.openapi(routes.backend, (c) => c.json({ backend: deps.info() }, 200));

  app.openapi(routes.hosts, async (c) => c.json(await registry.hosts(), 200));

  app.openapi(routes.listWorkers, async (c) => {
    const h = registry.get(c.req.valid("param").runtime_id);
    return c.json(await h.listWorkers(undefined, c.req.valid("query").status), 200);
  });

  app.openapi(routes.createWorker, async (c) => {
    const { runtime_id } = c.req.valid("param");
    const body = c.req.valid("json");
    const h = registry.get(runtime_id);
    return c.json({ worker: await h.createWorker(body) }, 201);
  });

  app.openapi(routes.getWorker, async (c) => {
    const p = c.req.valid("param");
    return reply(c, await target(p).workerEnvelope(p.worker_id), 200);
  });

  app.openapi(routes.input, async (c) => {
    const p = c.req.valid("param");
    const h = target(p);
    const { text } = c.req.valid("json");
    const ack = await h.input(p.worker_id, text);
    return c.json({ ack: { ...ack, runtime_id: p.runtime_id } }, 202);
  });

  app.openapi(routes.cancel, async (c) => {
    const p = c.req.valid("param");
    const h = target(p);
    const ack = await h.cancel(p.worker_id);
    return c.json({ ack: { ...ack, runtime_id: p.runtime_id } }, 200);
  });

  app.openapi(routes.stop, async (c) => {
    const p = c.req.valid("param");
    const h = target(p);
    const ack = await h.stop(p.worker_id);
    return c.json({ ack: { ...ack, runtime_id: p.runtime_id } }, 200);
  });

  app.openapi(routes.restore, async (c) => {
    const p = c.req.valid("param");
    const h = target(p);
    const r = await h.restore(p.worker_id, c.req.valid("query").dry_run);
    return c.json({ ack: { ...r.ack, runtime_id: p.runtime_id }, dry_run: r.dry_run }, 200);
  });

  app.openapi(routes.pause, async (c) => {
    const p = c.req.valid("param");
    const ack = await target(p).pause(p.worker_id);
    return c.json({ ack: { ...ack, runtime_id: p.runtime_id } }, 200);
  });

  app.openapi(routes.resume, async (c) => {
    const p = c.req.valid("param");
    const ack = await target(p).resume(p.worker_id);
    return c.json({ ack: { ...ack, runtime_id: p.runtime_id } }, 200);
  });

  app.openapi(routes.rename, async (c) => {
    const p = c.req.valid("param");
    const h = target(p);
    const { display_name } = c.req.valid("json");
    return c.json({ worker: await h.rename(p.worker_id, display_name) }, 200);
  });

  app.openapi(routes.deleteWorker, async (c) => {
    const p = c.req.valid("param");
    const { worker_id } = await target(p).deleteWorker(p.worker_id);
    return c.json({ deleted: { runtime_id: p.runtime_id, worker_id } }, 200);
  });

  app.openapi(routes.transcript, async (c) => {
    const p = c.req.valid("param");
    const q = c.req.valid("query");
    return reply(c, await target(p).transcriptEnvelope(p.worker_id, q.after, q.limit), 200);
  });

  app.openapi(routes.live, (c) => {
    if (!deps.live || c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new ApiError("invalid_request", "This route needs a WebSocket upgrade.");
    }
    // deno-lint-ignore no-explicit-any
    return deps.live.accept(c.req.raw) as any;
  });

  app.openapi(routes.events, async (c) => {
    const p = c.req.valid("param");
    const { after } = c.req.valid("query");
    const h = target(p);
    await h.getWorker(p.worker_id); // typed 404 before the upgrade
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new ApiError("invalid_request", "This route needs a WebSocket upgrade.");
    }
    // deno-lint-ignore no-explicit-any
    return proxyEvents(c.req.raw, h, p.worker_id, after, { streams: deps.streams }) as any;
  });
}
