/** `/settings`: overview of runtimes, workers and pending restarts. */
import { ConnectionListSchema } from "../../../../shared/settings_dto.ts";
import { Badge, statusTone } from "../../components/badge.tsx";
import { Diagnostics } from "../../components/diagnostics.tsx";
import { SettingsLayout } from "../../components/layout.tsx";
import type { Route } from "../../route.ts";

const overview: Route = async ({ client }) => {
  const [runtimes, workers, connections] = await Promise.all([
    client.listRuntimes(),
    client.listAllWorkers(),
    client.get("/api/settings/runtime-connections", ConnectionListSchema),
  ]);
  const byStatus = new Map<string, number>();
  for (const r of runtimes.runtimes) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
  const busy = workers.workers.filter((w) => w.status === "busy").length;
  return {
    title: "Settings",
    body: (
      <SettingsLayout section="overview">
        <h1>Overview</h1>
        <p class="lede">The runtimes this Backend routes to, and what needs attention.</p>
        {connections.restart_required && (
          <div class="notice warning" role="status">
            <strong>Restart required</strong>
            Runtime connections were changed. Restart the Backend to apply them.{" "}
            <a href="/settings/runtime-connections">Review connections</a>
          </div>
        )}
        <div class="card">
          <h2 class="card-title">Runtimes</h2>
          <p>
            {runtimes.runtimes.length} registered:{" "}
            {[...byStatus].map(([status, n]) => (
              <span key={status}>
                <Badge tone={statusTone(status)}>{n} {status}</Badge>
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
            {workers.workers.length} workers, {busy} busy. <a href="/workers">Open Workers</a>
          </p>
          <Diagnostics items={workers.diagnostics} label="Runtime diagnostics" />
        </div>
        <Diagnostics items={runtimes.diagnostics} label="Backend diagnostics" />
      </SettingsLayout>
    ),
  };
};

export default overview;
