/**
 * The Backend API's route table (DESIGN §6, §12): every `/api` route's method and path (from
 * `backend_paths.ts`), summary, tag, request schemas, success answers and the error codes it
 * can send — guards included. The Backend registers its handlers from it, `GET
 * /api/openapi.json` is generated from it and both typed clients derive from it.
 * @module
 */
import type { ErrorCode } from "../error_codes.ts";
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
} from "../backend_dto.ts";
import {
  CreateWorkerRequestSchema,
  InputRequestSchema,
  RenameWorkerRequestSchema,
  TranscriptEnvelopeSchema,
  WorkerStatusQuerySchema,
} from "../runtime_dto.ts";
import {
  AddConnectionRequestSchema,
  ConnectionListSchema,
  DeleteConnectionResponseSchema,
  EditConnectionRequestSchema,
  ProbeResultSchema,
  SaveConnectionResponseSchema,
  TestCandidateRequestSchema,
} from "../settings_dto.ts";
import { z } from "zod";
import { BACKEND_PATHS, type BackendOperationId } from "./backend_paths.ts";
import type { RoutePath } from "./path.ts";
import { json, type RouteDef } from "./route.ts";
import { OpenApiDocumentSchema, RUNTIME_ROUTES, type RuntimeOperationId } from "./runtime.ts";

// Error codes by where they come from; every route lists the ones it can send.
/** Host allow-list, admin token (when configured), the 1 MiB body cap, the last resort. */
const GUARD = ["host_not_allowed", "admin_token_required", "body_too_large", "internal_error"];
/** Mutations: the CSRF proof (`X-Yoi-Request`, Origin) and a JSON content type. */
const MUTATION = ["csrf_rejected", "invalid_request"];
/** Reaching a runtime: its id, its registry state, and the remote mapping of DESIGN §5. */
const REACH = [
  "invalid_id",
  "runtime_not_found",
  "remote_runtime_auth_failed",
  "remote_runtime_timeout",
  "remote_runtime_unsupported",
  "remote_runtime_unavailable",
  "remote_runtime_malformed_response",
  "runtime_protocol_unsupported",
  "runtime_id_mismatch",
  "token_ref_unresolved",
  "token_ref_not_allowed",
  "invalid_token_ref",
  "endpoint_not_allowed",
  "invalid_endpoint",
];
/** Connection input (add, edit, candidate test), validated in one place. */
const CONNECTION_INPUT = [
  "invalid_json",
  "invalid_request",
  "invalid_id",
  "invalid_endpoint",
  "invalid_display_name",
  "raw_token_rejected",
  "invalid_token_ref",
  "token_ref_not_allowed",
  "endpoint_not_allowed",
];
/** A change to the config file: it must parse, its shape must be one the editor changes safely,
 * and its audit line must be written first. */
const CONFIG_WRITE = ["config_unparsable", "config_unsupported_shape", "audit_unavailable"];

/** The codes of a route that reaches a runtime's `op`: its own (the embedded runtime) plus
 * reaching it (a remote one's refusal of the Backend's token is `remote_runtime_auth_failed`). */
function proxied(op: RuntimeOperationId, ...more: string[]): ErrorCode[] {
  const own = RUNTIME_ROUTES[op].errors.filter((c) => c !== "unauthorized");
  return codes(...GUARD, ...REACH, ...own, ...more);
}

function codes(...list: string[]): ErrorCode[] {
  return [...new Set(list)] as ErrorCode[];
}

const ok = json;
const upgrade = { 101: { description: "Switching to WebSocket" } } as const;
const admin = "admin" as const;

type Meta = Omit<RouteDef, keyof RoutePath>;

/** Joins each route's method and path with the rest of its declaration. */
function join<P extends Record<string, RoutePath>, M extends { [K in keyof P]: Meta }>(
  paths: P,
  meta: M,
): { [K in keyof P]: P[K] & M[K] } {
  const out = {} as Record<string, RouteDef>;
  for (const k of Object.keys(paths)) out[k] = { ...paths[k], ...meta[k] };
  return out as { [K in keyof P]: P[K] & M[K] };
}

/** The `/api` routes, keyed by operationId. */
export const BACKEND_ROUTES = join(BACKEND_PATHS, {
  "runtime.list": {
    tag: "runtimes",
    summary: "Live registry projection of every runtime (also the worker-creation choices)",
    responses: { 200: ok(RuntimeListSchema, "Runtimes") },
    errors: codes(...GUARD),
    auth: admin,
  },
  "runtime.get": {
    tag: "runtimes",
    summary: "One runtime's registry entry",
    responses: { 200: ok(RuntimeEntryEnvelopeSchema, "Runtime") },
    errors: codes(...GUARD, "invalid_id", "runtime_not_found"),
    auth: admin,
  },
  "worker.list_all": {
    tag: "workers",
    summary: "Workers of every runtime, queried in parallel under a deadline",
    query: WorkerStatusQuerySchema,
    responses: {
      200: ok(BackendWorkerListSchema, "Workers, with a diagnostic per runtime left out"),
    },
    errors: codes(...GUARD, "invalid_request"),
    auth: admin,
  },
  "backend.get": {
    tag: "backend",
    summary: "The Backend's own settings (read-only)",
    responses: { 200: ok(BackendInfoSchema, "Backend") },
    errors: codes(...GUARD),
    auth: admin,
  },
  "host.list": {
    tag: "runtimes",
    summary: "Machines hosting runtimes (remote ones named by runtime id)",
    responses: { 200: ok(HostListSchema, "Hosts") },
    errors: codes(...GUARD),
    auth: admin,
  },
  "openapi.get": {
    tag: "backend",
    summary: "This API's OpenAPI document",
    responses: { 200: ok(OpenApiDocumentSchema, "OpenAPI 3.0 document") },
    errors: codes(...GUARD),
    auth: admin,
  },
  "live.connect": {
    tag: "live",
    summary: "WebSocket: live workers/runtimes lists (subscribe, then snapshot, upsert, remove)",
    responses: upgrade,
    errors: codes(...GUARD, "csrf_rejected", "invalid_request"),
    auth: admin,
  },
  "worker.list": {
    tag: "workers",
    summary: "One runtime's workers",
    query: WorkerStatusQuerySchema,
    responses: { 200: ok(BackendWorkerListSchema, "Workers") },
    errors: proxied("worker.list"),
    auth: admin,
  },
  "worker.create": {
    tag: "workers",
    summary: "Creates a worker on a runtime; with `input` its first turn starts at once",
    body: CreateWorkerRequestSchema,
    responses: { 201: ok(BackendWorkerEnvelopeSchema, "Created worker") },
    errors: proxied("worker.create", ...MUTATION),
    auth: admin,
  },
  "worker.get": {
    tag: "workers",
    summary: "One worker's detail",
    responses: { 200: ok(BackendWorkerEnvelopeSchema, "Worker") },
    errors: proxied("worker.get"),
    auth: admin,
  },
  "worker.rename": {
    tag: "workers",
    summary: "Renames a worker",
    body: RenameWorkerRequestSchema,
    bodyRequired: true,
    responses: { 200: ok(BackendWorkerEnvelopeSchema, "Renamed worker") },
    errors: proxied("worker.rename", ...MUTATION),
    auth: admin,
  },
  "worker.delete": {
    tag: "workers",
    summary: "Removes a stopped worker and its log (409 worker_not_stopped otherwise)",
    responses: { 200: ok(BackendDeletedEnvelopeSchema, "Deleted") },
    errors: proxied("worker.delete", ...MUTATION),
    auth: admin,
  },
  "worker.input": {
    tag: "workers",
    summary: "Starts a turn with this input (a busy worker answers 409)",
    body: InputRequestSchema,
    bodyRequired: true,
    responses: { 202: ok(BackendAckEnvelopeSchema, "Input accepted") },
    errors: proxied("worker.input", ...MUTATION),
    auth: admin,
  },
  "worker.cancel": {
    tag: "workers",
    summary: "Aborts the running turn",
    responses: { 200: ok(BackendAckEnvelopeSchema, "Turn cancelled") },
    errors: proxied("worker.cancel", ...MUTATION),
    auth: admin,
  },
  "worker.stop": {
    tag: "workers",
    summary: "Ends the worker for good",
    responses: { 200: ok(BackendAckEnvelopeSchema, "Worker stopped") },
    errors: proxied("worker.stop", ...MUTATION),
    auth: admin,
  },
  "worker.restore": {
    tag: "workers",
    summary: "Reopens a stopped worker as idle; `?dry_run=true` only checks whether it can",
    query: RUNTIME_ROUTES["worker.restore"].query,
    responses: { 200: ok(BackendRestoreEnvelopeSchema, "Restored (or could be)") },
    errors: proxied("worker.restore", ...MUTATION),
    auth: admin,
  },
  "worker.pause": {
    tag: "workers",
    summary: "Holds the running turn",
    responses: { 200: ok(BackendAckEnvelopeSchema, "Turn paused") },
    errors: proxied("worker.pause", ...MUTATION),
    auth: admin,
  },
  "worker.resume": {
    tag: "workers",
    summary: "Continues a paused turn",
    responses: { 200: ok(BackendAckEnvelopeSchema, "Turn resumed") },
    errors: proxied("worker.resume", ...MUTATION),
    auth: admin,
  },
  "worker.transcript": {
    tag: "workers",
    summary: "A page of the worker's event log after `after`",
    query: RUNTIME_ROUTES["worker.transcript"].query,
    responses: { 200: ok(TranscriptEnvelopeSchema, "Transcript page") },
    errors: proxied("worker.transcript"),
    auth: admin,
  },
  "worker.events": {
    tag: "workers",
    summary: "WebSocket: WorkerEvent frames from `after`, then live, plus stream.* control frames",
    query: RUNTIME_ROUTES["worker.events"].query,
    responses: upgrade,
    errors: proxied("worker.events", "csrf_rejected"),
    auth: admin,
  },
  "connection.list": {
    tag: "connections",
    summary: "Embedded runtime plus remote connections with their live state and health",
    responses: {
      200: ok(ConnectionListSchema, "Connections (with an ETag)"),
      304: { description: "Unchanged since the ETag in If-None-Match" },
    },
    errors: codes(...GUARD),
    auth: admin,
  },
  "connection.add": {
    tag: "connections",
    summary: "Saves a remote runtime connection and applies it live",
    body: AddConnectionRequestSchema,
    bodyRequired: true,
    responses: { 201: ok(SaveConnectionResponseSchema, "Saved and applied") },
    errors: codes(
      ...GUARD,
      ...MUTATION,
      ...CONNECTION_INPUT,
      ...CONFIG_WRITE,
      "duplicate_runtime_id",
    ),
    auth: admin,
  },
  "connection.edit": {
    tag: "connections",
    summary: "Changes a connection's endpoint, display name or token_ref and applies it live",
    body: EditConnectionRequestSchema,
    bodyRequired: true,
    responses: { 200: ok(SaveConnectionResponseSchema, "Saved and applied") },
    errors: codes(
      ...GUARD,
      ...MUTATION,
      ...CONNECTION_INPUT,
      ...CONFIG_WRITE,
      "runtime_not_found",
      "runtime_not_config_managed",
    ),
    auth: admin,
  },
  "connection.delete": {
    tag: "connections",
    summary: "Removes a connection from the config file and the registry",
    query: z.object({ force: z.enum(["true", "false"]).optional() }),
    responses: { 200: ok(DeleteConnectionResponseSchema, "Removed") },
    errors: codes(
      ...GUARD,
      ...MUTATION,
      ...CONFIG_WRITE,
      "invalid_id",
      "runtime_not_found",
      "runtime_not_config_managed",
      "runtime_in_use",
    ),
    auth: admin,
  },
  "connection.test": {
    tag: "connections",
    summary: "Negotiation probe of a saved connection; nothing from it is persisted",
    responses: { 200: ok(ProbeResultSchema, "Probe result (an unreachable runtime is a result)") },
    errors: codes(...GUARD, ...MUTATION, "invalid_id", "runtime_not_found", "config_unparsable"),
    auth: admin,
  },
  "connection.test_candidate": {
    tag: "connections",
    summary: "Negotiation probe of an unsaved candidate (Save & test); nothing is persisted",
    body: TestCandidateRequestSchema,
    bodyRequired: true,
    responses: { 200: ok(ProbeResultSchema, "Probe result") },
    errors: codes(...GUARD, ...MUTATION, ...CONNECTION_INPUT),
    auth: admin,
  },
});

/** The table's type; clients and handlers derive their types from it. */
export type BackendRoutes = typeof BACKEND_ROUTES;
export type { BackendOperationId };

/** Tag descriptions for the document. */
export const BACKEND_TAGS = [
  { name: "runtimes", description: "The live registry of runtimes and their hosts" },
  { name: "workers", description: "Workers on any runtime, by runtime_id + worker_id" },
  { name: "connections", description: "Runtime connection settings, saved and applied live" },
  { name: "live", description: "Live lists for pages over one WebSocket per tab" },
  { name: "backend", description: "The Backend itself" },
];
