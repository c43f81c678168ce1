/** `/settings/runtimes`: the live registry, read-only, with each runtime's live state. */
import { LIFECYCLE_OPERATIONS, OPERATIONS } from "../../../../shared/runtime_dto.ts";
import { Copyable } from "../../components/copy_button.tsx";
import { Badge } from "../../components/badge.tsx";
import { Diagnostics } from "../../components/diagnostics.tsx";
import { SettingsLayout } from "../../components/layout.tsx";
import { RelativeTime } from "../../components/relative_time.tsx";
import { STATE_MEANING, StateBadge } from "../../components/state_badge.tsx";
import type { Route } from "../../route.ts";

const inventory: Route = async ({ client }) => {
  const { runtimes, diagnostics } = await client.listRuntimes();
  const now = Date.now();
  return {
    title: "Runtime Inventory",
    body: (
      <SettingsLayout section="inventory">
        <h1>Runtime Inventory</h1>
        <p class="lede">
          What the live registry of this Backend process holds right now. Read-only; change
          connections under <a href="/settings/runtime-connections">Runtime Connections</a>.
        </p>
        <Diagnostics items={diagnostics} label="Registry diagnostics" />
        <div class="rows">
          {runtimes.map((r) => (
            <section
              class="card"
              key={r.runtime_id}
              aria-labelledby={`rt-${r.runtime_id}`}
              data-state={r.state}
            >
              <div class="row-head">
                <h2 id={`rt-${r.runtime_id}`}>{r.display_name}</h2>
                <Copyable value={r.runtime_id} label={`runtime id ${r.runtime_id}`} />
                <Badge tone={r.kind === "embedded" ? "accent" : "neutral"}>{r.kind}</Badge>
                <StateBadge state={r.state} />
              </div>
              <dl class="facts">
                <dt>State</dt>
                <dd>{STATE_MEANING[r.state]}</dd>
                <dt>Checked</dt>
                <dd>
                  {r.last_checked_at
                    ? <RelativeTime iso={r.last_checked_at} now={now} />
                    : "not yet"}
                  {r.latency_ms !== null && `, ${Math.round(r.latency_ms)} ms`}
                </dd>
                <dt>Protocol</dt>
                <dd>{r.protocol ? `${r.protocol.name}/${r.protocol.version}` : "unknown"}</dd>
                <dt>Profiles</dt>
                <dd>{r.profiles.length ? r.profiles.join(", ") : "none reported"}</dd>
                <dt>Workers</dt>
                <dd data-worker-counts>
                  {r.worker_count ?? "unknown"}
                  {r.worker_counts &&
                    ` (${r.worker_counts.idle} idle, ${r.worker_counts.busy} busy, ${r.worker_counts.paused} paused, ${r.worker_counts.stopped} stopped)`}
                </dd>
                <dt>Platform</dt>
                <dd>{r.os ? `${r.os} / ${r.arch}` : "unknown"}</dd>
                <dt>Creates workers</dt>
                <dd>{r.can_create_worker ? "yes" : "no"}</dd>
                <dt>Capabilities</dt>
                <dd>
                  {r.capabilities
                    ? [...OPERATIONS, ...LIFECYCLE_OPERATIONS].map((op) => (
                      <span key={op}>
                        <Badge tone={r.capabilities![op] ? "success" : "neutral"}>
                          {op} {r.capabilities![op] ? "yes" : "no"}
                        </Badge>
                        {" "}
                      </span>
                    ))
                    : "unknown"}
                </dd>
              </dl>
              <Diagnostics items={r.diagnostics} />
            </section>
          ))}
        </div>
      </SettingsLayout>
    ),
  };
};

export default inventory;
