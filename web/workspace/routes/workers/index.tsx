/**
 * `/workers`: every worker across runtimes, server-rendered (readable without
 * JavaScript) and then kept live by one island over `/api/live` (see
 * islands/workers_list.tsx): filters, rename, delete of stopped workers.
 * @module
 */
import { AppLayout } from "../../components/layout.tsx";
import { island } from "../../kit/mod.ts";
import type { Route } from "../../route.ts";
import WorkersListIsland from "../../islands/workers_list.tsx";

const WorkersList = island("workers_list", WorkersListIsland);

const workers: Route = async ({ client }) => {
  const { workers, diagnostics } = await client.listAllWorkers();
  return {
    title: "Workers",
    body: (
      <AppLayout area="workers">
        <div class="page-head">
          <h1>Workers</h1>
          <a class="button" href="/workers/new">New worker</a>
        </div>
        <WorkersList initial={{ workers, diagnostics }} now={Date.now()} />
      </AppLayout>
    ),
  };
};

export default workers;
