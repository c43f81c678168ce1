/**
 * `/runtimes/:runtime_id/workers/:worker_id`: the worker console. The worker
 * and its whole transcript are loaded here and folded into the console's
 * view; the island then follows the live stream from the last seq.
 * @module
 */
import { ApiClientError } from "../../../../shared/api_request.ts";
import type { WorkspaceClient } from "../../../../shared/client.ts";
import { TRANSCRIPT_LIMIT_MAX, type WorkerEvent } from "../../../../shared/runtime_dto.ts";
import { applyEvents, emptyView } from "../../components/console_view.ts";
import { ErrorNotice } from "../../components/diagnostics.tsx";
import { AppLayout } from "../../components/layout.tsx";
import WorkerConsole from "../../islands/worker_console.tsx";
import { island } from "../../kit/mod.ts";
import type { Route } from "../../route.ts";

const Console = island("worker_console", WorkerConsole);

/** Every page of a worker's transcript. */
async function fullTranscript(
  client: WorkspaceClient,
  runtimeId: string,
  workerId: string,
): Promise<WorkerEvent[]> {
  const out: WorkerEvent[] = [];
  let after = 0;
  for (;;) {
    const page = await client.transcript(runtimeId, workerId, after, TRANSCRIPT_LIMIT_MAX);
    if (page.entries.length === 0) return out;
    out.push(...page.entries);
    after = page.entries[page.entries.length - 1].seq;
  }
}

function Breadcrumbs(props: { current: string }) {
  return (
    <nav class="breadcrumbs" aria-label="Breadcrumb">
      <a href="/workers">Workers</a> <span aria-hidden="true">/</span>{" "}
      <span aria-current="page">{props.current}</span>
    </nav>
  );
}

const workerConsole: Route = async ({ client, params }) => {
  const runtimeId = params.runtime_id;
  const workerId = params.worker_id;
  let worker, entries;
  try {
    ({ worker } = await client.getWorker(runtimeId, workerId));
    entries = await fullTranscript(client, runtimeId, workerId);
  } catch (e) {
    if (!(e instanceof ApiClientError)) throw e;
    const missing = e.httpStatus === 404;
    const title = missing ? "Worker not found" : "Worker unavailable";
    return {
      title,
      status: e.httpStatus >= 400 ? e.httpStatus : 502,
      body: (
        <AppLayout area="workers">
          <Breadcrumbs current={title} />
          <h1>{title}</h1>
          <ErrorNotice
            title={missing
              ? "There is no such worker"
              : "The worker's runtime could not be reached"}
            message={e.message}
            code={e.code}
            diagnostics={e.diagnostics}
          />
          <p>
            <a href="/workers">Back to all workers</a>
          </p>
        </AppLayout>
      ),
    };
  }
  const view = applyEvents(emptyView(worker.status), entries);
  return {
    title: `${worker.display_name} · Worker`,
    body: (
      <AppLayout area="workers">
        <Breadcrumbs current={worker.display_name} />
        <Console
          runtimeId={worker.runtime_id}
          workerId={worker.worker_id}
          displayName={worker.display_name}
          profile={worker.profile}
          createdAt={worker.created_at}
          view={view}
        />
      </AppLayout>
    ),
  };
};

export default workerConsole;
