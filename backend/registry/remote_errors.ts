/**
 * Error mapping of the remote Runtime client (DESIGN §5): every failure — transport,
 * redirect, auth, an error answer, a malformed answer, another runtime behind the
 * endpoint — becomes a typed {@link ApiError} whose message names the runtime id and never
 * the endpoint URL, host, port or token. Platform error messages (which embed the address)
 * are only matched, never copied; a remote's own message is scrubbed before it is shown.
 * @module
 */
import {
  ApiError,
  type ControlFrame,
  diagnostic,
  type ErrorBody,
  ErrorBodySchema,
  type ErrorCode,
} from "../../shared/mod.ts";
import type { RemoteEndpoint, Secret } from "../settings/mod.ts";
import { HttpPoolError } from "./http_pool.ts";

/**
 * A failure to reach the runtime at all (refused, reset, DNS, TLS, timeout), as opposed to
 * an answer the runtime gave: the registry turns it into `unreachable` at once.
 */
export class RemoteTransportError extends ApiError {}

/** Remote codes passed through unchanged (the Runtime's messages carry no secrets). */
const PASSTHROUGH_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "worker_not_found",
  "worker_busy",
  "worker_stopped",
  "worker_not_stopped",
  "worker_not_busy",
  "worker_not_paused",
  "profile_not_found",
  "invalid_request",
  "invalid_json",
  "unknown_profile",
  "invalid_id",
  "body_too_large",
  "runtime_stopping",
]);

/** Remote codes meaning "this route or operation does not exist here". */
const UNSUPPORTED_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "unsupported_operation",
  "not_found",
  "method_not_allowed",
]);

export const REDACTED = "[redacted]";
const REMOTE_MESSAGE_MAX = 300;

/** The typed errors of one remote client; knows what must never appear in a message. */
export class RemoteErrors {
  readonly #runtimeId: string;
  readonly #endpoint: RemoteEndpoint;
  readonly #token: Secret | undefined;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;

  constructor(
    runtimeId: string,
    endpoint: RemoteEndpoint,
    token: Secret | undefined,
    timeoutMs: number,
    maxBytes: number,
  ) {
    this.#runtimeId = runtimeId;
    this.#endpoint = endpoint;
    this.#token = token;
    this.#timeoutMs = timeoutMs;
    this.#maxBytes = maxBytes;
  }

  malformed(why: string): ApiError {
    return new ApiError(
      "remote_runtime_malformed_response",
      `Runtime "${this.#runtimeId}" sent a malformed response: ${why}.`,
    );
  }

  /** The body is over the response cap. */
  tooLarge(): ApiError {
    return this.malformed(`its response is larger than ${this.#maxBytes} bytes`);
  }

  auth(status: number): ApiError {
    return new ApiError(
      "remote_runtime_auth_failed",
      this.#token
        ? `Runtime "${this.#runtimeId}" rejected the configured token (HTTP ${status}).`
        : `Runtime "${this.#runtimeId}" requires a token and none is configured (HTTP ${status}).`,
    );
  }

  redirect(status: number): ApiError {
    return new ApiError(
      "remote_runtime_unavailable",
      `Runtime "${this.#runtimeId}" answered with a redirect (HTTP ${status}); ` +
        `redirects are not followed.`,
    );
  }

  /** The target policy refused the endpoint, or its name does not resolve. */
  vetting(e: unknown): ApiError {
    const err = e as ApiError;
    if (err.code === "endpoint_not_allowed") {
      return new ApiError(err.code, `Runtime "${this.#runtimeId}": ${err.message}`);
    }
    return new RemoteTransportError(
      "remote_runtime_unavailable",
      `Runtime "${this.#runtimeId}" is unreachable: its host name does not resolve.`,
    );
  }

  /** Maps a transport failure; never uses the error's own message in the result. */
  transport(e: unknown, caller?: AbortSignal): ApiError {
    if (e instanceof ApiError) return e;
    const id = this.#runtimeId;
    const kind = e instanceof HttpPoolError ? e.kind : null;
    if (kind === "too_large") return this.tooLarge();
    if (kind === "malformed") return this.malformed("its answer is not valid HTTP");
    if (kind === "timeout") {
      return new RemoteTransportError(
        "remote_runtime_timeout",
        `Runtime "${id}" did not answer within ${this.#timeoutMs} ms.`,
      );
    }
    if (caller?.aborted) {
      const reason = caller.reason;
      if (reason instanceof DOMException && reason.name === "TimeoutError") {
        return new ApiError("remote_runtime_timeout", `Runtime "${id}" did not answer in time.`);
      }
      return new ApiError(
        "remote_runtime_unavailable",
        `The request to runtime "${id}" was aborted.`,
      );
    }
    return new RemoteTransportError(
      "remote_runtime_unavailable",
      `Runtime "${id}" ${networkFailure(kind === "reset" ? "reset" : e)}.`,
    );
  }

  /** Maps a non-2xx, non-redirect, non-auth answer. `text` is null when over the cap. */
  remote(status: number, text: string | null, what: string): ApiError {
    let body: ErrorBody | null = null;
    if (text !== null) {
      try {
        const r = ErrorBodySchema.safeParse(JSON.parse(text));
        if (r.success) body = r.data;
      } catch { /* not JSON: untyped */ }
    }
    const id = this.#runtimeId;
    const code = body?.error.code;
    if (code === "unauthorized") return this.auth(status);
    if (code && PASSTHROUGH_CODES.has(code)) {
      const msg = this.scrub(body!.error.message) || code;
      return new ApiError(code, `Runtime "${id}": ${msg}`);
    }
    if (
      status === 501 || status === 405 || (code && UNSUPPORTED_CODES.has(code)) ||
      (status === 404 && !body)
    ) {
      return new ApiError(
        "remote_runtime_unsupported",
        `Runtime "${id}" does not support ${what} (HTTP ${status}).`,
      );
    }
    return new ApiError(
      "remote_runtime_unavailable",
      `Runtime "${id}" answered HTTP ${status}${code ? ` (${code})` : ""}.`,
      [diagnostic(
        "remote_runtime_error",
        `runtime ${id} answered ${status}${code ? ` ${code}` : ""}`,
      )],
    );
  }

  /** A remote message made safe to show: no control characters, bounded, no endpoint or token. */
  scrub(message: string): string {
    // deno-lint-ignore no-control-regex
    let m = message.replace(/[\u0000-\u001f\u007f-\u009f]+/g, " ").trim();
    const base = this.#endpoint.url("/");
    const needles = [this.#token?.reveal(), this.#endpoint.reveal(), base.origin, base.host];
    if (base.hostname.length >= 4) needles.push(base.hostname);
    for (const n of needles) if (n) m = m.split(n).join(REDACTED);
    return m.length > REMOTE_MESSAGE_MAX ? `${m.slice(0, REMOTE_MESSAGE_MAX)}…` : m;
  }
}

/** The `stream.closed` frame that ends an event stream with `e`. */
export function closedFrame(e: ApiError): ControlFrame {
  return { type: "stream.closed", code: e.code, message: e.message };
}

/** A fixed phrase for a network failure; the error's text is only matched, never copied. */
export function networkFailure(e: unknown): string {
  const parts: string[] = [];
  for (let x: unknown = e, i = 0; x && i < 5; x = (x as { cause?: unknown }).cause, i++) {
    parts.push(String((x as { message?: unknown }).message ?? x));
  }
  const text = parts.join(" | ");
  if (/connection refused/i.test(text)) return "refused the connection";
  if (/dns|lookup|resolve|name or service|no such host|nodename/i.test(text)) {
    return "could not be resolved";
  }
  if (/certificate|tls|ssl|handshake/i.test(text)) return "failed the TLS handshake";
  if (/reset|closed before|broken pipe|eof|aborted|connection closed/i.test(text)) {
    return "closed the connection unexpectedly";
  }
  if (/blocked/i.test(text)) return "is on a port that fetch refuses to use";
  return "could not be reached";
}

/** The error of an answer or stream from another runtime than the one configured. */
export function mismatchError(runtimeId: string, observed: string | null): ApiError {
  return observed === null
    ? new ApiError(
      "runtime_protocol_unsupported",
      `The endpoint configured for runtime ${runtimeId} does not identify itself as a yoi ` +
        `runtime; nothing from it is used.`,
    )
    : new ApiError(
      "runtime_id_mismatch",
      `The endpoint configured for runtime ${runtimeId} answers as runtime ${observed}; ` +
        `nothing from it is used. Start it with --id ${runtimeId} or fix the endpoint.`,
    );
}
