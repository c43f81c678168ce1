/**
 * `/settings/runtime-connections`: the editable, live list of runtime
 * connections. The list is server-rendered (readable without JavaScript)
 * and then hydrated as one island that keeps itself current (see
 * islands/connection_list.tsx for why it polls) and holds Test, Test all,
 * edit, delete and add. Connection changes apply at once, without a restart.
 * @module
 */
import { SettingsLayout } from "../../components/layout.tsx";
import { island } from "../../kit/mod.ts";
import type { Route } from "../../route.ts";
import ConnectionListIsland from "../../islands/connection_list.tsx";

const ConnectionList = island("connection_list", ConnectionListIsland);

const runtimeConnections: Route = async ({ client }) => {
  const list = await client.listConnections();
  return {
    title: "Runtime Connections",
    body: (
      <SettingsLayout section="connections">
        <h1>Runtime Connections</h1>
        <p class="lede">
          The runtimes this Backend connects to, as saved in its config file, with each one's live
          state. Adding, editing and deleting apply at once; no restart is needed.
        </p>
        <ConnectionList initial={list} now={Date.now()} />
      </SettingsLayout>
    ),
  };
};

export default runtimeConnections;
