/**
 * Error codes, the error body type and ApiError, with no runtime dependency:
 * the browser bundle imports this without pulling in zod.
 * @module
 */

/**
 * Every error and diagnostic code, with the HTTP status used when it is the
 * top-level error of a response. Diagnostic-only codes carry 200.
 */
export const ERROR_CODES = {
  // request shape
  invalid_id: 400,
  invalid_request: 400,
  invalid_json: 400,
  body_too_large: 413,
  unknown_profile: 400,
  not_found: 404,
  method_not_allowed: 405,
  // workers and runtimes
  runtime_not_found: 404,
  worker_not_found: 404,
  worker_busy: 409,
  worker_stopped: 409,
  worker_not_stopped: 409,
  worker_not_busy: 409,
  worker_not_paused: 409,
  profile_not_found: 409,
  duplicate_request: 409,
  unsupported_operation: 501,
  runtime_stopping: 503,
  runtime_at_capacity: 429,
  store_unavailable: 507,
  unauthorized: 401,
  internal_error: 500,
  // remote runtimes, as seen by the Backend
  remote_runtime_auth_failed: 401,
  remote_runtime_timeout: 504,
  remote_runtime_unsupported: 501,
  remote_runtime_unavailable: 502,
  remote_runtime_malformed_response: 502,
  remote_runtime_error: 502,
  runtime_protocol_unsupported: 502,
  runtime_id_mismatch: 502,
  // settings
  duplicate_runtime_id: 409,
  runtime_not_config_managed: 409,
  invalid_endpoint: 400,
  invalid_display_name: 400,
  raw_token_rejected: 400,
  invalid_token_ref: 400,
  token_ref_unresolved: 502,
  token_ref_not_allowed: 400,
  endpoint_not_allowed: 400,
  config_unparsable: 409,
  /** A valid TOML file whose runtimes.remote layout the editor cannot change safely. */
  config_unsupported_shape: 409,
  runtime_in_use: 409,
  // security
  host_not_allowed: 403,
  csrf_rejected: 403,
  admin_token_required: 401,
  audit_unavailable: 503,
  // diagnostics only
  store_torn_line_truncated: 200,
  store_corrupt_line_skipped: 200,
  store_entry_skipped: 200,
  turn_interrupted_by_restart: 200,
  stream_lagging: 200,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** A typed note attached to a response; never carries secrets, paths or URLs. */
export interface Diagnostic {
  code: ErrorCode;
  severity: "info" | "warning" | "error";
  message: string;
  /** When the note is about one runtime. */
  runtime_id?: string;
  /** Config file the note is about, relative to the workspace (never an absolute path). */
  file?: string;
  line?: number;
  column?: number;
}

/** The body of every non-2xx response. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
  diagnostics: Diagnostic[];
}

/** Thrown by domain code; HTTP layers turn it into an {@link ErrorBody}. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly diagnostics: Diagnostic[];
  constructor(code: ErrorCode, message: string, diagnostics: Diagnostic[] = []) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.diagnostics = diagnostics;
  }
  /** HTTP status for this error's code. */
  get status(): number {
    return ERROR_CODES[this.code];
  }
  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message }, diagnostics: this.diagnostics };
  }
}

/** Builds a diagnostic. */
export function diagnostic(
  code: ErrorCode,
  message: string,
  severity: Diagnostic["severity"] = "error",
): Diagnostic {
  return { code, severity, message };
}
