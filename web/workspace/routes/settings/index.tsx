/** `/settings`: overview of runtimes by live state, workers, and server settings awaiting a restart. */
import type { RuntimeState } from "../../../../shared/backend_dto.ts";
import { Badge } from "../../components/badge.tsx";
import { STATE_LABEL, stateTone } from "../../components/state_badge.tsx";
import { Diagnostics } from "../../components/diagnostics.tsx";
import { SettingsLayout } from "../../components/layout.tsx";
import { RestartNotice } from "../../components/restart_notice.tsx";
import type { Route } from "../../route.ts";

const overview: Route = async ({ client }) => {
  const [runtimes, workers, connections] = await Promise.all([
    client.listRuntimes(),
    client.listAllWorkers(),
    client.listConnections(),
  ]);
  const byState = new Map<RuntimeState, number>();
  for (const r of runtimes.runtimes) byState.set(r.state, (byState.get(r.state) ?? 0) + 1);
  const busy = workers.workers.filter((w) => w.status === "busy").length;
  return {
    title: "Settings",
    body: (
      <SettingsLayout section="overview">
        <h1>Overview</h1>
        <p class="lede">The runtimes this Backend routes to, and what needs attention.</p>
        {connections.restart_required && <RestartNotice keys={connections.restart_required_keys} />}
        <div class="card">
          <h2 class="card-title">Runtimes</h2>
          <p>
            {runtimes.runtimes.length} registered:{" "}
            {[...byState].map(([state, n]) => (
              <span key={state} class="state" data-state={state}>
                <Badge tone={stateTone(state)}>{n} {STATE_LABEL[state]}</Badge>
                {" "}
              </span>
            ))}
          </p>
          <p>
            <a href="/settings/runtimes">Runtime Inventory</a> ·{" "}
            <a href="/settings/runtime-connections">Runtime Connections</a>
          </p>
        </div>
        <div class="card">
          <h2 class="card-title">Workers</h2>
          <p>
            {workers.workers.length} {workers.workers.length === 1 ? "worker" : "workers"}, {busy}
            {" "}
            busy. <a href="/workers">Open Workers</a>
          </p>
          <Diagnostics items={workers.diagnostics} label="Runtime diagnostics" />
        </div>
        <Diagnostics items={runtimes.diagnostics} label="Backend diagnostics" />
      </SettingsLayout>
    ),
  };
};

export default overview;
