/**
 * Opens a WebSocket with request headers (e.g. `Authorization`). Deno's
 * WebSocket takes a non-standard `headers` option; the DOM lib the web app
 * is type-checked with does not know it, hence the one cast here.
 * @module
 */
export function openWebSocket(url: string | URL, headers?: HeadersInit): WebSocket {
  return headers === undefined
    ? new WebSocket(url)
    : new WebSocket(url, { headers } as unknown as string[]);
}

/** Decodes a byte stream into text chunks (UTF-8, never splitting a character). */
export async function* decodeText(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    const text = decoder.decode(chunk, { stream: true });
    if (text) yield text;
  }
  const rest = decoder.decode();
  if (rest) yield rest;
}
