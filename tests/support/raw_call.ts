/**
 * One raw HTTP call to a Backend for tests that check status codes and bodies themselves
 * (with the CSRF header on mutations, as the web app sends it).
 * @module
 */
import { CSRF_HEADER } from "../../shared/client.ts";

export interface RawReply {
  status: number;
  text: string;
  // deno-lint-ignore no-explicit-any
  body: any;
}

/** `body` is the parsed JSON answer, or undefined when the answer is not JSON. */
export async function rawCall(
  bp: { url: string },
  method: string,
  path: string,
  body?: unknown,
): Promise<RawReply> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (method !== "GET") headers[CSRF_HEADER] = "1";
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${bp.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, text, body: parsed };
}
