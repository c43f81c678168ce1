/**
 * A small Server-Sent Events reader for streamed Chat Completions. Why our own
 * and not the `openai` npm client: the client runs under Deno here, but it
 * ends a stream that was cut before `[DONE]` as if it were complete, and it
 * buffers a line of any length; this reader caps every event and says how a
 * stream ended, so the engine can tell a finished answer from a cut one.
 * @module
 */

/** One dispatched event: its `event:` name (if any) and its joined `data:` lines. */
export interface SseEvent {
  event?: string;
  data: string;
}

/** Why a stream could not be read to its end. */
export class SseError extends Error {
  readonly kind: "too_large" | "idle_timeout" | "read_failed";
  constructor(kind: SseError["kind"], message: string) {
    super(message);
    this.name = "SseError";
    this.kind = kind;
  }
}

export interface SseOptions {
  /** Largest event (its pending line plus data) in characters; beyond it the read fails. */
  maxEventChars: number;
  /** Longest wait for the next chunk; beyond it the read fails as `idle_timeout`. */
  idleTimeoutMs: number;
}

/**
 * Yields the events of `body` in order. Ends normally when the body ends
 * (the caller decides whether that end was expected); throws {@link SseError}
 * otherwise. Stopping the iteration early cancels the body.
 */
export async function* readSse(
  body: ReadableStream<Uint8Array>,
  opts: SseOptions,
): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  let data: string[] = [];
  let dataChars = 0;
  let event: string | undefined;
  let finished = false;
  try {
    for (;;) {
      const chunk = await readWithin(reader, opts.idleTimeoutMs);
      const text = chunk === null
        ? decoder.decode() + "\n"
        : decoder.decode(chunk, { stream: true });
      buf += text;
      // Lines end with \n, \r\n or \r; a lone trailing \r may be the first half of \r\n.
      for (;;) {
        const m = /\r\n|\n|\r(?=[^\n])/.exec(buf);
        if (!m) break;
        const line = buf.slice(0, m.index);
        buf = buf.slice(m.index + m[0].length);
        if (line === "") {
          if (data.length > 0) {
            yield { ...(event !== undefined ? { event } : {}), data: data.join("\n") };
          }
          data = [];
          dataChars = 0;
          event = undefined;
          continue;
        }
        if (line.startsWith(":")) continue; // comment / keep-alive
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "data") {
          data.push(value);
          dataChars += value.length + 1;
        } else if (field === "event") event = value;
      }
      if (buf.length + dataChars > opts.maxEventChars) {
        throw new SseError("too_large", `an event is larger than ${opts.maxEventChars} characters`);
      }
      if (chunk === null) {
        finished = true;
        return;
      }
    }
  } finally {
    if (!finished) reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/** One read, or null at the end of the body; throws {@link SseError} on silence or failure. */
async function readWithin(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  ms: number,
): Promise<Uint8Array | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new SseError("idle_timeout", `no data for ${ms} ms`)),
      ms,
    );
  });
  try {
    const r = await Promise.race([reader.read(), timeout]);
    return r.done ? null : r.value;
  } catch (e) {
    if (e instanceof SseError) throw e;
    throw new SseError("read_failed", "the stream could not be read to its end");
  } finally {
    clearTimeout(timer);
  }
}
