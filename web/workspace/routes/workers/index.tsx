/** `/workers`: every worker across runtimes, with a diagnostic per runtime that is down. */
import { Badge, statusTone } from "../../components/badge.tsx";
import { Diagnostics } from "../../components/diagnostics.tsx";
import { AppLayout } from "../../components/layout.tsx";
import { consoleHref, shortTime } from "../../components/format.ts";
import type { Route } from "../../route.ts";

const workers: Route = async ({ client }) => {
  const { workers, diagnostics } = await client.listAllWorkers();
  const rows = workers.toSorted((a, b) =>
    b.created_at.localeCompare(a.created_at) || a.runtime_id.localeCompare(b.runtime_id)
  );
  const busy = rows.filter((w) => w.status === "busy").length;
  const paused = rows.filter((w) => w.status === "paused").length;
  return {
    title: "Workers",
    body: (
      <AppLayout area="workers">
        <div class="page-head">
          <div>
            <h1>Workers</h1>
            <p class="lede">
              Every worker on every runtime this Backend routes to.
              {rows.length > 0 &&
                ` ${rows.length} in all, ${busy} busy${paused ? `, ${paused} paused` : ""}.`}
            </p>
          </div>
          <a class="button" href="/workers/new">New worker</a>
        </div>
        {diagnostics.length > 0 && (
          <div class="notice warning" role="status">
            <strong>Some runtimes could not be listed</strong>
            Their workers are missing below, or shown as last seen, until they answer again.
            <Diagnostics items={diagnostics} label="Runtime diagnostics" />
          </div>
        )}
        {rows.length === 0
          ? (
            <div class="card empty-state">
              <h2>No workers yet</h2>
              <p>
                A worker is a long-lived session on a runtime: it takes input and answers one turn
                at a time. <a href="/workers/new">Create a worker</a> to get started.
              </p>
            </div>
          )
          : (
            <div class="table-wrap">
              <table class="workers-table">
                <caption class="visually-hidden">Workers across runtimes</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Runtime</th>
                    <th scope="col">Profile</th>
                    <th scope="col">Status</th>
                    <th scope="col">Created</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((w) => (
                    <tr key={`${w.runtime_id}/${w.worker_id}`}>
                      <td>
                        <a href={consoleHref(w.runtime_id, w.worker_id)}>{w.display_name}</a>
                      </td>
                      <td>
                        <code>{w.runtime_id}</code>
                      </td>
                      <td>{w.profile}</td>
                      <td>
                        <Badge tone={statusTone(w.status)}>{w.status}</Badge>
                        {w.stale && (
                          <>
                            {" "}
                            <Badge tone="warning">last seen</Badge>
                          </>
                        )}
                      </td>
                      <td>
                        <time dateTime={w.created_at} title={w.created_at}>
                          {shortTime(w.created_at)}
                        </time>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
      </AppLayout>
    ),
  };
};

export default workers;
