/**
 * Web-standard request/response helpers shared by the Runtime server and the
 * Backend, so both answer bad input with the same typed error shape.
 * @module
 */
import type { z } from "zod";
import { ApiError, describeZodError, type ErrorBody } from "./errors.ts";

/** Largest request body either server reads (1 MiB). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Header every Runtime answer carries with its own id (DESIGN §4), checked by the Backend. */
export const RUNTIME_ID_HEADER = "yoi-runtime-id";

/**
 * The credential of an `Authorization: Bearer …` header, or null. One parser for the Runtime
 * and the Backend: the scheme is case-insensitive (RFC 9110 §11.1), spaces or tabs separate
 * it from the token, surrounding whitespace is ignored.
 */
export function bearerToken(header: string | null | undefined): string | null {
  const m = /^Bearer[ \t]+(\S+)$/i.exec((header ?? "").trim());
  return m ? m[1] : null;
}

/** A JSON response with the error body of DESIGN §5. */
export function errorResponse(err: ApiError, headers?: HeadersInit): Response {
  return Response.json(err.toBody() satisfies ErrorBody, { status: err.status, headers });
}

/**
 * Reads a request's or response's body as text, at most `max` bytes; null (with
 * the stream cancelled) when it is larger. Never buffers more than `max` bytes.
 */
export async function readCappedText(
  msg: Request | Response,
  max: number,
): Promise<string | null> {
  const declared = Number(msg.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > max) {
    await msg.body?.cancel().catch(() => {});
    return null;
  }
  if (!msg.body) return "";
  if (Number.isFinite(declared)) {
    // A declared length within the cap is enforced by the HTTP stack: read it in one go,
    // which is much cheaper than the chunk loop below (see bench/README.md).
    return await msg.text();
  }
  const reader = msg.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.byteLength;
  }
  return new TextDecoder().decode(all);
}

/** Reads at most `max` bytes of a request body as text; larger → `body_too_large`. */
export async function readBodyText(req: Request, max = MAX_BODY_BYTES): Promise<string> {
  const text = await readCappedText(req, max);
  if (text === null) throw tooLarge(max);
  return text;
}

function tooLarge(max: number) {
  return new ApiError("body_too_large", `Request body exceeds ${max} bytes.`);
}

/**
 * Parses a JSON body against a schema. An empty body counts as `{}` so that
 * routes whose fields are all optional accept a bare POST.
 */
export async function parseJsonBody<S extends z.ZodType>(
  req: Request,
  schema: S,
  max = MAX_BODY_BYTES,
): Promise<z.infer<S>> {
  const text = await readBodyText(req, max);
  let raw: unknown = {};
  if (text.trim() !== "") {
    try {
      raw = JSON.parse(text);
    } catch {
      throw new ApiError("invalid_json", "Request body is not valid JSON.");
    }
  }
  return parseWith(schema, raw);
}

/** Validates a value against a schema, throwing `invalid_request` with field names only. */
export function parseWith<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  const r = schema.safeParse(raw);
  if (!r.success) throw new ApiError("invalid_request", describeZodError(r.error));
  return r.data;
}

/** Compares two secrets in time independent of where they differ. */
export async function secretsEqual(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [ha, hb] = await Promise.all([
    crypto.subtle.digest("SHA-256", enc.encode(a)),
    crypto.subtle.digest("SHA-256", enc.encode(b)),
  ]);
  const x = new Uint8Array(ha), y = new Uint8Array(hb);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Splits "host:port" (IPv6 in brackets) into parts; throws on anything else. */
export function parseListen(listen: string): { hostname: string; port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:\[\]]+):(\d{1,5})$/.exec(listen.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new Error(`listen address must be HOST:PORT, got "${listen}"`);
  return { hostname: m[1].replace(/^\[|\]$/g, ""), port };
}
