/**
 * `/settings/runtime-connections`: the editable list of runtime connections.
 * Everything is server-rendered (readable without JavaScript); adding, testing
 * and deleting are small islands. Changes apply after a Backend restart.
 * @module
 */
import { ConnectionListSchema, type ConnectionRow } from "../../../../shared/settings_dto.ts";
import { Badge } from "../../components/badge.tsx";
import { Diagnostics } from "../../components/diagnostics.tsx";
import { SettingsLayout } from "../../components/layout.tsx";
import { island } from "../../kit/mod.ts";
import type { Route } from "../../route.ts";
import AddConnectionFormIsland from "../../islands/add_connection_form.tsx";
import DeleteConnectionIsland from "../../islands/delete_connection.tsx";
import SavedNoticeIsland from "../../islands/saved_notice.tsx";
import TestConnectionIsland from "../../islands/test_connection.tsx";

const AddConnectionForm = island("add_connection_form", AddConnectionFormIsland);
const DeleteConnection = island("delete_connection", DeleteConnectionIsland);
const SavedNotice = island("saved_notice", SavedNoticeIsland);
const TestConnection = island("test_connection", TestConnectionIsland);

/** One sentence on how the config file and the running Backend relate for this row. */
function stateSentence(r: ConnectionRow): string {
  if (r.built_in) return "Runs inside the Backend process; always present, cannot be deleted.";
  if (r.persisted && !r.active) {
    return "Saved in the config file; the running Backend starts using it after a restart.";
  }
  if (!r.persisted && r.active) {
    return r.restart_required
      ? "Removed from the config file; still in use until the Backend restarts."
      : "In use by the running Backend.";
  }
  if (r.restart_required) {
    return "Changed in the config file; the running Backend uses the old settings until a restart.";
  }
  return "Saved in the config file and in use by the running Backend.";
}

function ConnectionCard(props: { row: ConnectionRow }) {
  const r = props.row;
  const headingId = `rc-${r.id}`;
  return (
    <section class="card connection" aria-labelledby={headingId}>
      <div class="row-head">
        <h3 id={headingId}>{r.display_name}</h3>
        <code>{r.id}</code>
        {r.built_in ? <Badge tone="accent">built-in</Badge> : (
          <>
            <Badge>{r.persisted ? "persisted" : "not persisted"}</Badge>
            <Badge tone={r.active ? "success" : undefined}>
              {r.active ? "active" : "not active"}
            </Badge>
          </>
        )}
        {r.restart_required && <Badge tone="warning">restart required</Badge>}
        {r.deletable && <DeleteConnection id={r.id} display_name={r.display_name} />}
      </div>
      <dl class="facts">
        <dt>Endpoint</dt>
        <dd>{r.endpoint ? <code>{r.endpoint}</code> : "none (same process)"}</dd>
        {!r.built_in && (
          <>
            <dt>Token</dt>
            <dd>
              {r.token_ref
                ? (
                  <>
                    <code>{r.token_ref}</code> (read from the Backend's environment)
                  </>
                )
                : "none"}
            </dd>
          </>
        )}
        <dt>State</dt>
        <dd>{stateSentence(r)}</dd>
      </dl>
      <Diagnostics items={r.diagnostics} label={`Diagnostics for ${r.display_name}`} />
      <TestConnection id={r.id} />
    </section>
  );
}

const runtimeConnections: Route = async ({ client, url }) => {
  const list = await client.get("/api/settings/runtime-connections", ConnectionListSchema);
  const saved = url.searchParams.get("saved");
  const savedId = url.searchParams.get("id") ?? "";
  return {
    title: "Runtime Connections",
    body: (
      <SettingsLayout section="connections">
        <h1>Runtime Connections</h1>
        <p class="lede">
          The runtimes this Backend connects to, as saved in its config file. Changes are saved
          right away and apply when the Backend restarts.
        </p>
        {(saved === "added" || saved === "deleted") && (
          <SavedNotice action={saved} id={savedId.slice(0, 63)} />
        )}
        {!list.config_ok && (
          <div class="notice danger" role="alert">
            <strong>The config file does not parse</strong>
            Connections cannot be added or deleted here until the file is fixed by hand.
            <Diagnostics items={list.diagnostics} label="Config diagnostics" />
          </div>
        )}
        {list.config_ok && list.restart_required && saved === null && (
          <div class="notice warning" role="status">
            <strong>Restart required</strong>
            The saved connections differ from what this Backend is running. Restart the Backend to
            apply them.
          </div>
        )}
        {list.config_ok && <Diagnostics items={list.diagnostics} label="Config diagnostics" />}
        <div class="rows">
          {list.connections.map((r) => <ConnectionCard key={r.id} row={r} />)}
        </div>
        <section class="card" aria-labelledby="add-connection">
          <h2 id="add-connection" class="card-title">Add a remote runtime</h2>
          <AddConnectionForm disabled={!list.config_ok} />
        </section>
      </SettingsLayout>
    ),
  };
};

export default runtimeConnections;
