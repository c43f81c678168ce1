/**
 * The negotiation probe (DESIGN §6): one `GET /v1/runtime` through the
 * Backend-owned client, read as a RuntimeSummary, and an honest account of
 * what was checked. It never creates workers or sends input, and nothing
 * from it is persisted.
 * @module
 */
import {
  ApiError,
  type Diagnostic,
  diagnostic,
  OPERATIONS,
  type OperationSupport,
  type ProbeResult,
  ProfileName,
  PROTOCOL_NAME,
  PROTOCOL_VERSION,
} from "../../shared/mod.ts";
import {
  assertEndpointAllowed,
  type Lookup,
  type RemoteConfig,
  RemoteEndpoint,
  resolveTokenRef,
  type Secret,
  type TokenRefPolicy,
} from "../settings/mod.ts";
import { RemoteRuntimeClient, RemoteTransportError } from "./remote_client.ts";
import type { CapabilityMinter } from "./capability.ts";
import { RUNTIME_ROUTES } from "../../shared/routes/mod.ts";

/** The call the probe makes, as its answers name it (`GET /v1/runtime`). */
const SUMMARY_CALL = `${RUNTIME_ROUTES["runtime.get"].method} ${
  RUNTIME_ROUTES["runtime.get"].path
}`;

export interface ProbeOptions {
  timeoutMs?: number;
  /** Which token_refs may resolve (DESIGN §8); a refused one is never sent. */
  policy?: TokenRefPolicy;
  /** Resolver for the endpoint target policy (default: the system resolver). */
  lookup?: Lookup;
  /** Capability tokens for a connection without token_ref (DESIGN §8). */
  capabilities?: CapabilityMinter;
}

type Operations = ProbeResult["operations"];

function allOps(v: OperationSupport): Operations {
  return Object.fromEntries(OPERATIONS.map((op) => [op, v])) as Operations;
}

function result(
  id: string,
  part: Partial<ProbeResult> & Pick<ProbeResult, "reachable" | "protocol">,
): ProbeResult {
  return {
    runtime_id: id,
    checked_at: new Date().toISOString(),
    latency_ms: null,
    authenticated: null,
    identity: { status: "unknown", observed_runtime_id: null },
    observed: { runtime_id: null, display_name: null, status: null, profiles: [] },
    operations: allOps("unknown"),
    diagnostics: [],
    ...part,
  };
}

const str = (v: unknown) => typeof v === "string" ? v : null;

function identityOf(id: string, observed: string | null): ProbeResult["identity"] {
  return {
    status: observed === null ? "unknown" : observed === id ? "match" : "mismatch",
    observed_runtime_id: observed,
  };
}

function mismatchDiagnostic(id: string, observed: string): Diagnostic {
  return diagnostic(
    "runtime_id_mismatch",
    `The endpoint configured for ${id} is runtime ${observed}; ` +
      `start it with --id ${id} or fix the endpoint.`,
  );
}

/**
 * Probes a remote runtime, saved or candidate. Never throws: every failure is a typed
 * diagnostic. The four questions are answered apart (DESIGN §6): `reachable` (an HTTP answer
 * came back), `authenticated` (null when it could not be asked), `identity` (from the
 * `Yoi-Runtime-Id` header, checked before auth, or the summary) and `protocol`. Operations
 * stay "unknown" unless the identity matched; the read operations are then exercised for real.
 */
export async function probeRemote(
  cfg: RemoteConfig,
  opts: ProbeOptions = {},
): Promise<ProbeResult> {
  const id = cfg.id;
  let token: Secret | undefined;
  try {
    token = cfg.token_ref ? resolveTokenRef(cfg.token_ref, opts.policy) : undefined;
  } catch (e) {
    const d = e as ApiError;
    return result(id, {
      reachable: false,
      protocol: { compatible: false, basis: "not contacted: the token_ref could not be resolved" },
      diagnostics: [diagnostic(d.code ?? "token_ref_unresolved", d.message)],
    });
  }
  let client: RemoteRuntimeClient;
  try {
    await assertEndpointAllowed(cfg.endpoint, { lookup: opts.lookup });
    client = new RemoteRuntimeClient({
      runtimeId: id,
      endpoint: new RemoteEndpoint(cfg.endpoint),
      token,
      timeoutMs: opts.timeoutMs ?? 3000,
      checkIdentity: false,
      lookup: opts.lookup,
      capabilities: opts.capabilities,
    });
  } catch (e) {
    const err = e instanceof ApiError ? e : new ApiError("invalid_endpoint", "Invalid endpoint.");
    return result(id, {
      reachable: false,
      protocol: { compatible: false, basis: "not contacted: the endpoint is not usable" },
      diagnostics: [diagnostic(err.code, err.message)],
    });
  }
  const seen = { runtimeId: null as string | null };
  const t0 = performance.now();
  let raw: unknown;
  try {
    raw = await client.probeRuntime(seen);
  } catch (e) {
    const err = e instanceof ApiError
      ? e
      : new ApiError("remote_runtime_unavailable", `Runtime ${id} could not be probed.`);
    // A name re-pointed at a refused address since the check above is refused unsent.
    const answered = !(err instanceof RemoteTransportError) && err.code !== "endpoint_not_allowed";
    const identity = identityOf(id, seen.runtimeId);
    const authFailed = err.code === "remote_runtime_auth_failed";
    const basis = identity.status === "mismatch"
      ? `${SUMMARY_CALL} was answered by runtime ${seen.runtimeId}`
      : authFailed
      ? `${SUMMARY_CALL} was refused: the runtime needs a token it was not given or did not accept`
      : err.code === "remote_runtime_malformed_response"
      ? `${SUMMARY_CALL} answered, but not with JSON a runtime would send`
      : err.code === "remote_runtime_unsupported"
      ? `the endpoint has no ${SUMMARY_CALL}`
      : answered
      ? `${SUMMARY_CALL} answered with an error`
      : `${SUMMARY_CALL} got no answer`;
    return result(id, {
      latency_ms: answered ? ms(performance.now() - t0) : null,
      reachable: answered,
      authenticated: authFailed ? false : null,
      identity,
      protocol: { compatible: false, basis },
      diagnostics: [
        ...(identity.status === "mismatch" ? [mismatchDiagnostic(id, seen.runtimeId!)] : []),
        diagnostic(err.code, err.message),
        ...err.diagnostics,
      ],
    });
  }
  const latency = ms(performance.now() - t0);
  const judged = judgeSummary(id, raw, seen.runtimeId);
  judged.latency_ms = latency;
  judged.authenticated = true;
  if (judged.protocol.compatible) await exerciseReads(id, cfg, token, opts, judged);
  return judged;
}

/** Calls the read operations for real before calling them supported. */
async function exerciseReads(
  id: string,
  cfg: RemoteConfig,
  token: Secret | undefined,
  opts: ProbeOptions,
  out: ProbeResult,
): Promise<void> {
  const client = new RemoteRuntimeClient({
    runtimeId: id,
    endpoint: new RemoteEndpoint(cfg.endpoint),
    token,
    timeoutMs: opts.timeoutMs ?? 3000,
  });
  const failed = (op: keyof ProbeResult["operations"], e: unknown) => {
    const err = e instanceof ApiError
      ? e
      : new ApiError("remote_runtime_unavailable", `Runtime ${id} failed a read.`);
    out.operations[op] = err.code === "remote_runtime_unsupported" ? "unsupported" : "unknown";
    out.diagnostics.push(diagnostic(err.code, `${op}: ${err.message}`, "warning"));
  };
  let first: string | undefined;
  try {
    const list = await client.listWorkers();
    out.operations.list_workers = "supported";
    first = list.workers[0]?.worker_id;
  } catch (e) {
    failed("list_workers", e);
    return;
  }
  if (first === undefined) return; // no worker to read: worker_detail as the runtime declares
  try {
    await client.getWorker(first);
    out.operations.worker_detail = "supported";
  } catch (e) {
    failed("worker_detail", e);
  }
}

function ms(v: number): number {
  return Math.round(v * 10) / 10;
}

/**
 * Reads a raw `GET /v1/runtime` body and says what is and is not known from it. `header` is
 * the answer's `Yoi-Runtime-Id` (it wins over the body's id when both are there).
 */
export function judgeSummary(id: string, raw: unknown, header: string | null = null): ProbeResult {
  const rt = (raw as { runtime?: unknown } | null)?.runtime;
  if (typeof rt !== "object" || rt === null) {
    const identity = identityOf(id, header);
    return result(id, {
      reachable: true,
      identity,
      protocol: {
        compatible: false,
        basis: `${SUMMARY_CALL} answered JSON without a runtime summary`,
      },
      diagnostics: [
        ...(identity.status === "mismatch" ? [mismatchDiagnostic(id, header!)] : []),
        diagnostic(
          "runtime_protocol_unsupported",
          `The endpoint configured for ${id} is not a yoi worker runtime.`,
        ),
      ],
    });
  }
  const s = rt as Record<string, unknown>;
  const diagnostics: Diagnostic[] = [];
  const profiles = Array.isArray(s.profiles)
    ? s.profiles.filter((p) => ProfileName.safeParse(p).success) as string[]
    : [];
  const observed = {
    runtime_id: str(s.runtime_id),
    display_name: str(s.display_name),
    status: str(s.status),
    profiles,
  };
  const identity = identityOf(id, header ?? observed.runtime_id);
  const caps = typeof s.capabilities === "object" && s.capabilities !== null
    ? s.capabilities as Record<string, unknown>
    : null;
  let operations = Object.fromEntries(OPERATIONS.map((op) => {
    const v = caps?.[op];
    return [op, v === true ? "supported" : v === false ? "unsupported" : "unknown"];
  })) as Operations;

  let compatible = true;
  let basis: string;
  let name: string | undefined;
  let version: number | undefined;
  if (identity.status === "mismatch") {
    diagnostics.push(mismatchDiagnostic(id, identity.observed_runtime_id!));
  } else if (identity.status === "unknown") {
    diagnostics.push(diagnostic(
      "runtime_id_mismatch",
      `The runtime at the endpoint configured for ${id} does not report its id.`,
    ));
  }
  const proto = s.protocol as { name?: unknown; version?: unknown } | undefined;
  if (proto === undefined) {
    // Something answered /v1/runtime, but without a protocol nothing is negotiated, and the
    // live client needs one: report exactly that, never an assumed version.
    compatible = false;
    basis = "v1 runtime endpoint responded";
    diagnostics.push(diagnostic(
      "runtime_protocol_unsupported",
      `Runtime ${id} names no protocol; this Backend needs ${PROTOCOL_NAME}/${PROTOCOL_VERSION}.`,
    ));
  } else {
    name = str(proto?.name) ?? undefined;
    version = typeof proto?.version === "number" ? proto.version : undefined;
    if (name === PROTOCOL_NAME && version === PROTOCOL_VERSION) {
      basis = `protocol ${PROTOCOL_NAME}/${PROTOCOL_VERSION} negotiated`;
    } else {
      compatible = false;
      basis = `protocol ${name ?? "(unnamed)"}/${version ?? "(no version)"} offered; ` +
        `this Backend speaks ${PROTOCOL_NAME}/${PROTOCOL_VERSION}`;
      diagnostics.push(diagnostic(
        "runtime_protocol_unsupported",
        `Runtime ${id} offers a protocol this Backend does not speak.`,
      ));
    }
  }
  if (identity.status !== "match") {
    // Another runtime's (or an anonymous) summary says nothing about this connection.
    compatible = false;
    operations = allOps("unknown");
  }
  return result(id, {
    reachable: true,
    identity,
    protocol: {
      compatible,
      basis,
      ...(name !== undefined ? { name } : {}),
      ...(version !== undefined ? { version } : {}),
    },
    observed,
    operations,
    diagnostics,
  });
}
