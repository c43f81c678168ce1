/**
 * The one HTTP call path to the Backend's API, shared by the validating
 * client (tests, SSR) and the browser client (islands). Free of zod so the
 * browser bundle stays small. Always sends the CSRF proof header on mutations.
 * @module
 */
import { ApiError, ERROR_CODES, type ErrorBody, type ErrorCode } from "./error_codes.ts";

/** The header every mutating request carries (DESIGN §8). */
export const CSRF_HEADER = "X-Yoi-Request";

/** A failed API call: the typed error body, plus the HTTP status (0 when unreachable). */
export class ApiClientError extends ApiError {
  readonly httpStatus: number;
  constructor(status: number, body: ErrorBody) {
    super(body.error.code, body.error.message, body.diagnostics);
    this.name = "ApiClientError";
    this.httpStatus = status;
  }
}

export interface RequestOptions {
  /** Sent as `Authorization: Bearer` when the Backend requires an admin token. */
  adminToken?: string;
  fetch?: typeof fetch;
  headers?: HeadersInit;
}

function isErrorBody(v: unknown): v is ErrorBody {
  const e = (v as ErrorBody | null)?.error;
  return typeof e === "object" && e !== null && typeof e.message === "string" &&
    typeof e.code === "string" && e.code in ERROR_CODES &&
    Array.isArray((v as ErrorBody).diagnostics);
}

function failure(status: number, code: ErrorCode, message: string): ApiClientError {
  return new ApiClientError(status, { error: { code, message }, diagnostics: [] });
}

/** Performs one API call and returns the parsed JSON body of a 2xx answer. */
export async function apiRequest(
  baseUrl: string,
  opts: RequestOptions,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const headers = new Headers(opts.headers);
  headers.set("accept", "application/json");
  if (method !== "GET") headers.set(CSRF_HEADER, "1");
  if (body !== undefined) headers.set("content-type", "application/json");
  if (opts.adminToken) headers.set("authorization", `Bearer ${opts.adminToken}`);
  let res: Response;
  try {
    res = await (opts.fetch ?? fetch)(`${baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw failure(0, "remote_runtime_unavailable", "The Backend could not be reached.");
  }
  let data: unknown;
  try {
    data = JSON.parse(await res.text());
  } catch {
    data = undefined;
  }
  if (!res.ok) {
    if (isErrorBody(data)) throw new ApiClientError(res.status, data);
    throw failure(res.status, "internal_error", `The Backend answered ${res.status}.`);
  }
  if (data === undefined) {
    throw failure(
      res.status,
      "remote_runtime_malformed_response",
      "The Backend's answer was not JSON.",
    );
  }
  return data;
}

/** Turns a base URL and path into the matching ws:/wss: URL. */
export function toWebSocketUrl(baseUrl: string, path: string): string {
  const u = new URL(`${baseUrl}${path}`);
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  return u.toString();
}
