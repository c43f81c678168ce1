/**
 * Values the Backend must never log or return (DESIGN §1, §8): bearer tokens
 * and remote Runtime endpoints. Both redact themselves in `toString`,
 * `toJSON` and `Deno.inspect`, so an accidental `console.log`, template
 * string or `JSON.stringify` shows `[redacted]` instead of the value.
 * @module
 */
import { ApiError } from "../../shared/mod.ts";

const REDACTED = "[redacted]";
const DENO_INSPECT = Symbol.for("Deno.customInspect");
const NODE_INSPECT = Symbol.for("nodejs.util.inspect.custom");

/** A secret string, e.g. a bearer token; read it with {@link Secret.reveal}. */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The secret itself; pass it only to the place that needs it (e.g. a header). */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [DENO_INSPECT](): string {
    return `Secret(${REDACTED})`;
  }

  [NODE_INSPECT](): string {
    return `Secret(${REDACTED})`;
  }
}

/**
 * The base URL of a remote Runtime. The Backend never logs it and never puts
 * it in a browser-facing response or error; use {@link RemoteEndpoint.url}
 * and {@link RemoteEndpoint.wsUrl} to build request URLs.
 */
export class RemoteEndpoint {
  readonly #base: URL;

  /**
   * @param endpoint absolute `http:`/`https:` URL with a host and no userinfo,
   *   query or fragment; an optional path is kept as a prefix.
   * @throws ApiError `invalid_endpoint` (the message never echoes the value)
   */
  constructor(endpoint: string | URL) {
    let u: URL;
    try {
      u = new URL(String(endpoint));
    } catch {
      throw new ApiError("invalid_endpoint", "The endpoint is not an absolute URL.");
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") {
      throw new ApiError("invalid_endpoint", "The endpoint must use http: or https:.");
    }
    if (!u.hostname) throw new ApiError("invalid_endpoint", "The endpoint must have a host.");
    if (u.username || u.password) {
      throw new ApiError("invalid_endpoint", "The endpoint must not contain credentials.");
    }
    if (u.search || u.hash) {
      throw new ApiError("invalid_endpoint", "The endpoint must not have a query or fragment.");
    }
    this.#base = u;
  }

  /** The endpoint as configured (for the settings screen only, never for logs or errors). */
  reveal(): string {
    return this.#base.href;
  }

  /**
   * The URL of `path` (which must start with a single `/` and may carry a
   * query) on this endpoint; the endpoint's own path is kept as a prefix.
   */
  url(path: string): URL {
    if (!path.startsWith("/") || path.startsWith("//")) {
      throw new TypeError("RemoteEndpoint.url: path must start with a single '/'");
    }
    const prefix = this.#base.pathname.replace(/\/+$/, "");
    return new URL(prefix + path, this.#base.origin);
  }

  /** Like {@link RemoteEndpoint.url} with the `ws:`/`wss:` scheme. */
  wsUrl(path: string): URL {
    const u = this.url(path);
    u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    return u;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [DENO_INSPECT](): string {
    return `RemoteEndpoint(${REDACTED})`;
  }

  [NODE_INSPECT](): string {
    return `RemoteEndpoint(${REDACTED})`;
  }
}
