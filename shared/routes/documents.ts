/**
 * The two OpenAPI documents (`/v1/openapi.json`, `/api/openapi.json`), each generated from
 * its route table once and cached. `deno task openapi:lint` dumps and lints both.
 * @module
 */
import { RuntimeId, WorkerId } from "../ids.ts";
import { SESSION_COOKIE } from "../session_cookie.ts";
import { RuntimeEntrySchema } from "../backend_dto.ts";
import { ConnectionRowSchema } from "../settings_dto.ts";
import { BACKEND_ROUTES, BACKEND_TAGS } from "./backend.ts";
import { DiagnosticSchema } from "../errors.ts";
import {
  AckSchema,
  RuntimeSummarySchema,
  WorkerDetailSchema,
  WorkerEventSchema,
  WorkerSummarySchema,
} from "../runtime_dto.ts";
import { buildOpenApiDocument } from "./openapi.ts";
import { RUNTIME_ROUTES, RUNTIME_TAGS } from "./runtime.ts";

const ERRORS_NOTE = "Every error answer is `{error: {code, message}, diagnostics}` (DESIGN §5); " +
  "each operation lists the codes it can answer under their statuses. A known path called " +
  "with a method it does not take answers 405 `method_not_allowed` with an `Allow` header; " +
  "an unknown path 404 `not_found`.";

const SHARED_COMPONENTS = {
  Diagnostic: DiagnosticSchema,
  WorkerSummary: WorkerSummarySchema,
  WorkerDetail: WorkerDetailSchema,
  WorkerEvent: WorkerEventSchema,
  Ack: AckSchema,
};

let runtimeDoc: Promise<Record<string, unknown>> | undefined;

/** The Runtime API's document (DESIGN §4). */
export function runtimeOpenApiDocument(): Promise<Record<string, unknown>> {
  return runtimeDoc ??= buildOpenApiDocument(RUNTIME_ROUTES, {
    title: "yoi worker-runtime API",
    version: "1",
    description: "Served by every Runtime process; its only client is the Workspace Backend. " +
      "Every answer carries `Yoi-Runtime-Id`. " + ERRORS_NOTE,
    servers: [{ url: "http://127.0.0.1:8790", description: "A runtime's default listen address" }],
    tags: RUNTIME_TAGS,
    securitySchemes: {
      runtimeToken: {
        type: "http",
        scheme: "bearer",
        description: "The runtime's `--token-env` token, or a capability token signed by a " +
          "trusted Backend key (DESIGN §8). Required on every route when either is configured.",
      },
    },
    // `{}`: a runtime started without a token or trusted key (loopback only) needs none.
    security: { runtime: [{ runtimeToken: [] }, {}], admin: [] },
    pathParams: { worker_id: WorkerId },
    components: { ...SHARED_COMPONENTS, RuntimeSummary: RuntimeSummarySchema },
  }).catch((e) => {
    runtimeDoc = undefined;
    throw e;
  });
}

let backendDoc: Promise<Record<string, unknown>> | undefined;

/** The Backend API's document (DESIGN §6). */
export function backendOpenApiDocument(): Promise<Record<string, unknown>> {
  return backendDoc ??= buildOpenApiDocument(BACKEND_ROUTES, {
    title: "yoi Workspace Backend API",
    version: "1",
    description: "Browser-facing API. Runtimes are addressed by runtime_id + worker_id only. " +
      "Every request needs an allowed `Host` (else 403 `host_not_allowed`); every mutation " +
      "`X-Yoi-Request: 1` and, with an `Origin`, the Backend's own (else 403 " +
      "`csrf_rejected`). " + ERRORS_NOTE,
    servers: [{
      url: "http://127.0.0.1:8787",
      description: "The Backend's default listen address",
    }],
    tags: BACKEND_TAGS,
    securitySchemes: {
      adminToken: {
        type: "http",
        scheme: "bearer",
        description: "The admin token (`--admin-token-env`); required when one is configured, " +
          "as it must be to listen beyond loopback (DESIGN §8).",
      },
      adminSession: {
        type: "apiKey",
        in: "cookie",
        name: SESSION_COOKIE,
        description: "A browser session from `POST /login`; counts like the admin token.",
      },
    },
    // `{}`: a Backend without an admin token (loopback only) needs none.
    security: { admin: [{ adminToken: [] }, { adminSession: [] }, {}], runtime: [] },
    pathParams: { runtime_id: RuntimeId, worker_id: WorkerId, id: RuntimeId },
    components: {
      ...SHARED_COMPONENTS,
      RuntimeEntry: RuntimeEntrySchema,
      ConnectionRow: ConnectionRowSchema,
    },
  }).catch((e) => {
    backendDoc = undefined;
    throw e;
  });
}
