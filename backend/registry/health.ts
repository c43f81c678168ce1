/**
 * Health of one remote runtime (DESIGN §10): what its checks found (state mapping, the
 * compatibility rule, timestamps, the short history the settings page shows) and when the
 * next check runs (interval ±20 % jitter, doubling after repeated failures). The handle owns
 * one of each; they hold no connection and send nothing themselves.
 * @module
 */
import {
  type ApiError,
  type Diagnostic,
  diagnostic,
  type HealthCheck,
  PROTOCOL_NAME,
  PROTOCOL_VERSION,
  type RuntimeState,
  type RuntimeSummary,
} from "../../shared/mod.ts";

/** Default pause between periodic health checks (DESIGN §10). */
export const DEFAULT_HEALTH_INTERVAL_MS = 15_000;
/** Failed checks in a row before the interval starts doubling. */
const BACKOFF_AFTER_FAILURES = 5;
/** Ceiling of the doubled interval. */
const MAX_BACKOFF_MS = 60_000;
/** Checks kept per runtime for the settings page. */
const HISTORY_MAX = 20;

/** Checks a summary against the configured id and protocol; returns problems found. */
export function compatibilityProblems(configuredId: string, s: RuntimeSummary): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (s.runtime_id !== configuredId) {
    out.push(diagnostic(
      "runtime_id_mismatch",
      `The endpoint configured for runtime ${configuredId} answers as runtime ${s.runtime_id}; ` +
        `it points at another runtime.`,
    ));
  }
  if (s.protocol.name !== PROTOCOL_NAME || s.protocol.version !== PROTOCOL_VERSION) {
    out.push(diagnostic(
      "runtime_protocol_unsupported",
      `Runtime ${configuredId} speaks ${s.protocol.name}/${s.protocol.version}; ` +
        `this Backend speaks ${PROTOCOL_NAME}/${PROTOCOL_VERSION}.`,
    ));
  }
  return out;
}

/** The state a failed check or call puts the runtime in. */
export function stateOf(e: ApiError): RuntimeState {
  switch (e.code) {
    case "remote_runtime_auth_failed":
      return "auth_failed";
    case "runtime_id_mismatch":
    case "runtime_protocol_unsupported":
    case "remote_runtime_malformed_response":
    case "remote_runtime_unsupported":
      return "incompatible";
    case "token_ref_unresolved":
    case "token_ref_not_allowed":
    case "endpoint_not_allowed":
    case "invalid_token_ref":
      return "unconfigured";
    default:
      return "unreachable";
  }
}

/** What the checks of one runtime found: timestamps, latency, history, failures in a row. */
export class HealthRecord {
  lastCheckedAt: string | null = null;
  lastOkAt: string | null = null;
  latencyMs: number | null = null;
  /** Newest first, at most 20. */
  readonly history: HealthCheck[] = [];
  /** Failed checks in a row (a state change counts as the first). */
  failures = 0;

  /** Stores one outcome; `changed` says whether it moved the runtime to another state. */
  record(state: RuntimeState, code: string | null, latency: number | null, changed: boolean) {
    const at = new Date().toISOString();
    this.lastCheckedAt = at;
    this.latencyMs = latency === null ? null : Math.round(latency * 10) / 10;
    if (state === "ready") this.lastOkAt = at;
    this.history.unshift({ at, state, latency_ms: this.latencyMs, code });
    if (this.history.length > HISTORY_MAX) this.history.length = HISTORY_MAX;
    this.failures = state === "ready" ? 0 : changed ? 1 : this.failures + 1;
  }
}

/** The pause before the next check: the interval ±20 %, doubling per failure past the fifth. */
export function nextCheckDelay(intervalMs: number, failures: number, random = Math.random): number {
  const over = failures - BACKOFF_AFTER_FAILURES + 1;
  const base = over > 0
    ? Math.min(intervalMs * 2 ** over, Math.max(MAX_BACKOFF_MS, intervalMs))
    : intervalMs;
  return Math.round(base * (0.8 + random() * 0.4));
}

/** Runs `check` now and then again after every completed check, until stopped. */
export class HealthSchedule {
  readonly #check: () => Promise<void>;
  readonly #failures: () => number;
  #intervalMs = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(check: () => Promise<void>, failures: () => number) {
    this.#check = check;
    this.#failures = failures;
  }

  /** The current interval (0: periodic checks off). */
  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** Starts (or restarts) periodic checks, the first at once; 0 turns them off. */
  start(intervalMs: number): void {
    this.#intervalMs = intervalMs;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (intervalMs > 0) this.#tick();
  }

  /** Stops for good (the runtime was removed). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #tick(): void {
    if (this.#stopped || this.#intervalMs <= 0) return;
    this.#check().finally(() => {
      if (this.#stopped || this.#intervalMs <= 0) return;
      clearTimeout(this.#timer);
      this.#timer = setTimeout(
        () => this.#tick(),
        nextCheckDelay(this.#intervalMs, this.#failures()),
      );
      Deno.unrefTimer(this.#timer as unknown as number);
    });
  }
}
