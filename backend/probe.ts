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
} from "../shared/mod.ts";
import type { RemoteConfig } from "./config.ts";
import { RemoteRuntimeClient } from "./remote_client.ts";
import { RemoteEndpoint, type Secret } from "./secret.ts";
import { resolveTokenRef } from "./token_ref.ts";

export interface ProbeOptions {
  timeoutMs?: number;
  env?: (name: string) => string | undefined;
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
    observed: { runtime_id: null, display_name: null, status: null, profiles: [] },
    operations: allOps("unknown"),
    diagnostics: [],
    ...part,
  };
}

const str = (v: unknown) => typeof v === "string" ? v : null;

/** Probes a configured remote runtime. Never throws: every failure is a typed diagnostic. */
export async function probeRemote(
  cfg: RemoteConfig,
  opts: ProbeOptions = {},
): Promise<ProbeResult> {
  const id = cfg.id;
  let token: Secret | undefined;
  try {
    token = cfg.token_ref ? resolveTokenRef(cfg.token_ref, opts.env) : undefined;
  } catch (e) {
    const d = e as ApiError;
    return result(id, {
      reachable: false,
      protocol: { compatible: false, basis: "not contacted: the token_ref could not be resolved" },
      diagnostics: [diagnostic(d.code ?? "token_ref_unresolved", d.message)],
    });
  }
  let raw: unknown;
  try {
    const client = new RemoteRuntimeClient({
      runtimeId: id,
      endpoint: new RemoteEndpoint(cfg.endpoint),
      token,
      timeoutMs: opts.timeoutMs ?? 3000,
    });
    raw = await client.probeRuntime();
  } catch (e) {
    const err = e instanceof ApiError
      ? e
      : new ApiError("remote_runtime_unavailable", `Runtime ${id} could not be probed.`);
    const answered = err.code === "remote_runtime_auth_failed" ||
      err.code === "remote_runtime_malformed_response" ||
      err.code === "remote_runtime_unsupported";
    const basis = err.code === "remote_runtime_auth_failed"
      ? "GET /v1/runtime was refused: the runtime needs a token it was not given or did not accept"
      : err.code === "remote_runtime_malformed_response"
      ? "GET /v1/runtime answered, but not with JSON a runtime would send"
      : err.code === "remote_runtime_unsupported"
      ? "the endpoint has no GET /v1/runtime"
      : "GET /v1/runtime got no answer";
    return result(id, {
      reachable: answered,
      protocol: { compatible: false, basis },
      diagnostics: [diagnostic(err.code, err.message), ...err.diagnostics],
    });
  }
  return judgeSummary(id, raw);
}

/** Reads a raw `GET /v1/runtime` body and says what is and is not known from it. */
export function judgeSummary(id: string, raw: unknown): ProbeResult {
  const rt = (raw as { runtime?: unknown } | null)?.runtime;
  if (typeof rt !== "object" || rt === null) {
    return result(id, {
      reachable: true,
      protocol: {
        compatible: false,
        basis: "GET /v1/runtime answered JSON without a runtime summary",
      },
      diagnostics: [diagnostic(
        "runtime_protocol_unsupported",
        `The endpoint configured for ${id} is not a yoi worker runtime.`,
      )],
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
  const caps = typeof s.capabilities === "object" && s.capabilities !== null
    ? s.capabilities as Record<string, unknown>
    : null;
  const operations = Object.fromEntries(OPERATIONS.map((op) => {
    const v = caps?.[op];
    return [op, v === true ? "supported" : v === false ? "unsupported" : "unknown"];
  })) as Operations;

  let compatible = true;
  let basis: string;
  let name: string | undefined;
  let version: number | undefined;
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
  if (observed.runtime_id !== id) {
    compatible = false;
    diagnostics.push(diagnostic(
      "runtime_id_mismatch",
      observed.runtime_id === null
        ? `The runtime at the endpoint configured for ${id} does not report its id.`
        : `The endpoint configured for ${id} is runtime ${observed.runtime_id}; ` +
          `start it with --id ${id} or fix the endpoint.`,
    ));
  }
  return result(id, {
    reachable: true,
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
