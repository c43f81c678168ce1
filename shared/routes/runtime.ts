/**
 * The Runtime API's route table (DESIGN §4, §12): every `/v1` route, declared once. The
 * runtime server registers its handlers from it, `GET /v1/openapi.json` is generated from it
 * and the Backend's remote client builds its paths with it.
 * @module
 */
import { z } from "zod";
import { DiagnosticSchema } from "../errors.ts";
import {
  AckEnvelopeSchema,
  CreateWorkerRequestSchema,
  DeletedEnvelopeSchema,
  EventsQuerySchema,
  InputRequestSchema,
  RenameWorkerRequestSchema,
  RestoreEnvelopeSchema,
  RestoreQuerySchema,
  RuntimeEnvelopeSchema,
  TranscriptEnvelopeSchema,
  TranscriptQuerySchema,
  WorkerEnvelopeSchema,
  WorkerListEnvelopeSchema,
  WorkerListQuerySchema,
} from "../runtime_dto.ts";
import { json, type RouteDef } from "./route.ts";
import { fillPath, type PathParams } from "./path.ts";

/** Any JSON object (the OpenAPI document itself). */
export const OpenApiDocumentSchema = z.record(z.string(), z.unknown());

/** `GET /v1/runtime`: the summary plus start-up and store diagnostics. */
export const RuntimeInfoSchema = RuntimeEnvelopeSchema.extend({
  diagnostics: z.array(DiagnosticSchema),
});

// Error codes by where they come from; every route lists the ones it can send.
/** The auth guard (when a token or trusted key is configured) and the last-resort handler. */
const GUARD = ["unauthorized", "internal_error"] as const;
/** A worker path: a malformed id, or one this runtime does not hold. */
const WORKER = ["invalid_id", "worker_not_found"] as const;
/** A JSON body, read with the 1 MiB cap. */
const BODY = ["invalid_json", "invalid_request", "body_too_large"] as const;
/** A write to the worker's log (DESIGN §11), and a runtime that is shutting down. */
const WRITE = ["store_unavailable", "runtime_stopping"] as const;

const TAG_RUNTIME = "runtime";
const TAG_WORKERS = "workers";
const W = "/v1/workers/{worker_id}";

/** The `/v1` routes, keyed by operationId. */
export const RUNTIME_ROUTES = {
  "runtime.get": {
    method: "GET",
    path: "/v1/runtime",
    tag: TAG_RUNTIME,
    summary: "This runtime's summary (id, protocol, capabilities, profiles) and diagnostics",
    responses: { 200: json(RuntimeInfoSchema, "Summary and diagnostics") },
    errors: [...GUARD],
    auth: "runtime",
  },
  "openapi.get": {
    method: "GET",
    path: "/v1/openapi.json",
    tag: TAG_RUNTIME,
    summary: "This API's OpenAPI document",
    responses: { 200: json(OpenApiDocumentSchema, "OpenAPI 3.0 document") },
    errors: [...GUARD],
    auth: "runtime",
  },
  "worker.list": {
    method: "GET",
    path: "/v1/workers",
    tag: TAG_WORKERS,
    summary: "Every worker of this runtime, optionally only those in one status",
    description: "The answer carries an `ETag` (a version that changes whenever a listed " +
      "field of any worker changes, a worker comes or goes, or the runtime restarts; one per " +
      "`status` filter). A request with that value in `If-None-Match` gets a 304 without a " +
      "body (still with `Yoi-Runtime-Id`).",
    query: WorkerListQuerySchema,
    responses: {
      200: json(WorkerListEnvelopeSchema, "Workers (with an ETag)"),
      304: { description: "Unchanged since the ETag in If-None-Match" },
    },
    errors: [...GUARD, "invalid_request"],
    auth: "runtime",
  },
  "worker.create": {
    method: "POST",
    path: "/v1/workers",
    tag: TAG_WORKERS,
    summary: "Creates a worker of a profile; with `input` its first turn starts at once",
    body: CreateWorkerRequestSchema,
    responses: {
      201: json(WorkerEnvelopeSchema, "Created (or the worker of a repeated request_id)"),
    },
    errors: [...GUARD, ...BODY, ...WRITE, "unknown_profile", "runtime_at_capacity"],
    auth: "runtime",
  },
  "worker.get": {
    method: "GET",
    path: W,
    tag: TAG_WORKERS,
    summary: "One worker's detail",
    responses: { 200: json(WorkerEnvelopeSchema, "Worker") },
    errors: [...GUARD, ...WORKER],
    auth: "runtime",
  },
  "worker.rename": {
    method: "PATCH",
    path: W,
    tag: TAG_WORKERS,
    summary: "Renames a worker (recorded as `worker.renamed`)",
    body: RenameWorkerRequestSchema,
    bodyRequired: true,
    responses: { 200: json(WorkerEnvelopeSchema, "Renamed worker") },
    errors: [...GUARD, ...WORKER, ...BODY, ...WRITE],
    auth: "runtime",
  },
  "worker.delete": {
    method: "DELETE",
    path: W,
    tag: TAG_WORKERS,
    summary: "Removes a stopped worker and its log",
    responses: { 200: json(DeletedEnvelopeSchema, "Deleted") },
    errors: [...GUARD, ...WORKER, ...WRITE, "worker_not_stopped"],
    auth: "runtime",
  },
  "worker.restore": {
    method: "POST",
    path: `${W}/restore`,
    tag: TAG_WORKERS,
    summary: "Reopens a stopped worker as idle; `?dry_run=true` only says whether it can",
    query: RestoreQuerySchema,
    responses: { 200: json(RestoreEnvelopeSchema, "Restored (or could be)") },
    errors: [
      ...GUARD,
      ...WORKER,
      ...WRITE,
      "invalid_request",
      "worker_not_stopped",
      "profile_not_found",
    ],
    auth: "runtime",
  },
  "worker.pause": {
    method: "POST",
    path: `${W}/pause`,
    tag: TAG_WORKERS,
    summary: "Holds the running turn (status `paused`)",
    responses: { 200: json(AckEnvelopeSchema, "Paused (or already paused)") },
    errors: [...GUARD, ...WORKER, "store_unavailable", "worker_not_busy", "unsupported_operation"],
    auth: "runtime",
  },
  "worker.resume": {
    method: "POST",
    path: `${W}/resume`,
    tag: TAG_WORKERS,
    summary: "Continues a paused turn",
    responses: { 200: json(AckEnvelopeSchema, "Resumed (or already running)") },
    errors: [
      ...GUARD,
      ...WORKER,
      "store_unavailable",
      "worker_not_paused",
      "unsupported_operation",
    ],
    auth: "runtime",
  },
  "worker.input": {
    method: "POST",
    path: `${W}/input`,
    tag: TAG_WORKERS,
    summary: "Starts a turn with this input (no hidden queue: a busy worker answers 409)",
    body: InputRequestSchema,
    bodyRequired: true,
    responses: { 202: json(AckEnvelopeSchema, "Input accepted, turn started") },
    errors: [...GUARD, ...WORKER, ...BODY, ...WRITE, "worker_busy", "worker_stopped"],
    auth: "runtime",
  },
  "worker.cancel": {
    method: "POST",
    path: `${W}/cancel`,
    tag: TAG_WORKERS,
    summary: "Aborts the running turn; the worker is idle again",
    responses: { 200: json(AckEnvelopeSchema, "Cancelled (or nothing was running)") },
    errors: [...GUARD, ...WORKER],
    auth: "runtime",
  },
  "worker.stop": {
    method: "POST",
    path: `${W}/stop`,
    tag: TAG_WORKERS,
    summary: "Ends the worker for good (a running turn is cancelled first)",
    responses: { 200: json(AckEnvelopeSchema, "Stopped") },
    errors: [...GUARD, ...WORKER],
    auth: "runtime",
  },
  "worker.transcript": {
    method: "GET",
    path: `${W}/transcript`,
    tag: TAG_WORKERS,
    summary: "A page of the worker's persisted event log after `after`",
    query: TranscriptQuerySchema,
    responses: { 200: json(TranscriptEnvelopeSchema, "Transcript page") },
    errors: [...GUARD, ...WORKER, "invalid_request"],
    auth: "runtime",
  },
  "worker.events": {
    method: "GET",
    path: `${W}/events`,
    tag: TAG_WORKERS,
    summary: "WebSocket: `stream.opened`, then WorkerEvent frames after `after`, then live",
    query: EventsQuerySchema,
    responses: { 101: { description: "Switching to WebSocket" } },
    errors: [...GUARD, ...WORKER, "invalid_request", "runtime_stopping"],
    auth: "runtime",
  },
} as const satisfies Record<string, RouteDef>;

/** The table's type; clients and handlers derive their types from it. */
export type RuntimeRoutes = typeof RUNTIME_ROUTES;
/** An operationId of the Runtime API. */
export type RuntimeOperationId = keyof RuntimeRoutes;

/** The path (with query) of a Runtime API operation, e.g. for the Backend's remote client. */
export function runtimePath<K extends RuntimeOperationId>(
  op: K,
  params: PathParams<RuntimeRoutes[K]["path"]>,
  query?: Record<string, string | number | boolean | undefined>,
): string {
  return fillPath(RUNTIME_ROUTES[op].path, params as Record<string, string>, query);
}

/** Tag descriptions for the document. */
export const RUNTIME_TAGS = [
  { name: TAG_RUNTIME, description: "The runtime itself" },
  { name: TAG_WORKERS, description: "Workers: create, drive, read and stream" },
];
