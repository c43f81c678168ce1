/** `/workers/new`: the New worker form; runtime choices come from `GET /api/runtimes`. */
import { AppLayout } from "../../components/layout.tsx";
import { Diagnostics } from "../../components/diagnostics.tsx";
import { island } from "../../kit/mod.ts";
import CreateWorkerForm, { type RuntimeChoice } from "../../islands/create_worker_form.tsx";
import type { Route } from "../../route.ts";

const Form = island("create_worker_form", CreateWorkerForm);

const newWorker: Route = async ({ client, url }) => {
  const { runtimes, diagnostics } = await client.listRuntimes();
  const choices: RuntimeChoice[] = runtimes.map((r) => ({
    runtime_id: r.runtime_id,
    display_name: r.display_name,
    kind: r.kind,
    status: r.status,
    can_create_worker: r.can_create_worker,
    profiles: r.profiles,
    diagnostics: r.diagnostics,
  }));
  const selected = url.searchParams.get("runtime") ?? undefined;
  return {
    title: "New worker",
    body: (
      <AppLayout area="workers">
        <nav class="breadcrumbs" aria-label="Breadcrumb">
          <a href="/workers">Workers</a> <span aria-hidden="true">/</span>{" "}
          <span aria-current="page">New worker</span>
        </nav>
        <h1>New worker</h1>
        <p class="lede">
          Start a worker on one of the runtimes this Backend routes to. Its profile, set in that
          runtime's own config, decides what a turn does.
        </p>
        <Diagnostics items={diagnostics} label="Registry diagnostics" />
        <div class="card form-card">
          <Form runtimes={choices} {...(selected ? { selected } : {})} />
        </div>
      </AppLayout>
    ),
  };
};

export default newWorker;
