/**
 * The Backend's one structured logger. Every line is JSON and passes through
 * redaction, so secrets and remote Runtime URLs (DESIGN §1, §8) never reach
 * the log even when a caller passes them by accident.
 * @module
 */

/** Fields attached to a log line. */
export type LogFields = Record<string, unknown>;

/** A redacting JSON-lines logger. */
export interface Logger {
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  /** Registers a value (e.g. a resolved bearer token) to be redacted wherever it appears. */
  addSecret(value: string): void;
}

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** Receives each JSON line without trailing newline; default `console.error`. */
  write?: (line: string) => void;
}

const REDACTED = "[redacted]";
const URL_MARK = "[url]";
const MAX_DEPTH = 8;
/** Keys whose values are always redacted, compared lower-case. */
const SECRET_KEYS = new Set([
  "token",
  "authorization",
  "password",
  "secret",
  "bearer_token",
  "endpoint",
  "url",
  "admin_token",
  "api_key",
  "cookie",
]);
const URL_RE = /\b(?:https?|wss?):\/\/[^\s"'<>`]*/gi;
const RESERVED = new Set(["at", "level", "event"]);

/**
 * Creates a logger writing one redacted JSON line per call. Redaction
 * replaces registered secrets and any http(s)/ws(s) URL inside every string
 * (deeply, including Error messages), blanks values of secret-looking keys,
 * logs Errors as `{name, message}` without a stack, and honours `toJSON`.
 */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const write = opts.write ?? ((line: string) => console.error(line));
  const secrets = new Set<string>();
  let ordered: string[] = [];

  const redactString = (s: string): string => {
    let out = s;
    for (const secret of ordered) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    }
    return out.replace(URL_RE, URL_MARK);
  };

  const redact = (v: unknown, depth: number, seen: WeakSet<object>): unknown => {
    switch (typeof v) {
      case "string":
        return redactString(v);
      case "number":
      case "boolean":
        return v;
      case "bigint":
        return v.toString();
      case "undefined":
        return undefined;
      case "symbol":
        return redactString(v.toString());
      case "function":
        return "[function]";
    }
    if (v === null) return null;
    const obj = v as object;
    if (seen.has(obj)) return "[circular]";
    if (depth >= MAX_DEPTH) return "[truncated]";
    seen.add(obj);
    try {
      if (obj instanceof Error) {
        const out: Record<string, unknown> = {
          name: redactString(String(obj.name)),
          message: redactString(String(obj.message)),
        };
        const code = (obj as { code?: unknown }).code;
        if (typeof code === "string") out.code = redactString(code);
        return out;
      }
      const toJSON = (obj as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === "function") {
        let j: unknown;
        try {
          j = toJSON.call(obj);
        } catch {
          return "[unserializable]";
        }
        // A toJSON returning itself would loop; treat its fields as a plain object.
        if (j !== obj) return redact(j, depth + 1, seen);
      }
      if (ArrayBuffer.isView(obj) || obj instanceof ArrayBuffer) {
        return `[bytes ${obj.byteLength}]`;
      }
      if (Array.isArray(obj)) return obj.map((x) => redact(x, depth + 1, seen) ?? null);
      if (obj instanceof Map) {
        return [...obj].map(([k, x]) => [redact(k, depth + 1, seen), redact(x, depth + 1, seen)]);
      }
      if (obj instanceof Set) return [...obj].map((x) => redact(x, depth + 1, seen) ?? null);
      return redactRecord(obj as Record<string, unknown>, depth, seen);
    } finally {
      seen.delete(obj);
    }
  };

  const redactRecord = (
    rec: Record<string, unknown>,
    depth: number,
    seen: WeakSet<object>,
  ): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(rec)) {
      const key = redactString(k);
      out[key] = SECRET_KEYS.has(k.toLowerCase()) ? REDACTED : redact(x, depth + 1, seen);
    }
    return out;
  };

  const emit = (level: "info" | "warn" | "error", event: string, fields?: LogFields) => {
    const line: Record<string, unknown> = {
      at: new Date().toISOString(),
      level,
      event: redactString(String(event)),
    };
    if (fields && typeof fields === "object") {
      const body = redactRecord(fields, 0, new WeakSet());
      for (const [k, x] of Object.entries(body)) line[RESERVED.has(k) ? `_${k}` : k] = x;
    }
    let text: string;
    try {
      text = JSON.stringify(line);
    } catch {
      text = JSON.stringify({ at: line.at, level, event: line.event, log_error: "unserializable" });
    }
    try {
      write(text);
    } catch {
      // Logging must never break the caller.
    }
  };

  return {
    info: (event, fields) => emit("info", event, fields),
    warn: (event, fields) => emit("warn", event, fields),
    error: (event, fields) => emit("error", event, fields),
    addSecret(value: string) {
      if (typeof value !== "string" || value === "" || secrets.has(value)) return;
      secrets.add(value);
      // Longest first, so a secret containing another is replaced whole.
      ordered = [...secrets].sort((a, b) => b.length - a.length);
    },
  };
}

/** The process-wide logger; register resolved secrets on it with `log.addSecret`. */
export const log: Logger = createLogger();
