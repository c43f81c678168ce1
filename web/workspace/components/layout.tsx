/**
 * The page frame every route renders into: skip link, header with the
 * primary navigation, and either a settings layout with section navigation
 * or a single column, and in both the live worker list (the one island
 * every page carries, see islands/live_sidebar.tsx).
 * @module
 */
import type { ComponentChildren } from "preact";
import { island } from "../kit/mod.ts";
import LiveSidebarIsland from "../islands/live_sidebar.tsx";

const LiveSidebar = island("live_sidebar", LiveSidebarIsland);

export type Area = "workers" | "settings";
export type SettingsSection = "overview" | "connections" | "inventory" | "backend";

export const SETTINGS_SECTIONS: { id: SettingsSection; href: string; label: string }[] = [
  { id: "overview", href: "/settings", label: "Overview" },
  { id: "connections", href: "/settings/runtime-connections", label: "Runtime Connections" },
  { id: "inventory", href: "/settings/runtimes", label: "Runtime Inventory" },
  { id: "backend", href: "/settings/backend", label: "Backend" },
];

function NavLink(props: { href: string; current: boolean; children: ComponentChildren }) {
  return (
    <a href={props.href} aria-current={props.current ? "page" : undefined}>
      {props.children}
    </a>
  );
}

function Header(props: { area: Area }) {
  return (
    <header class="app-header">
      <a class="skip-link" href="#main">Skip to content</a>
      <a class="brand" href="/">yoi workspace</a>
      <nav class="primary-nav" aria-label="Primary">
        <ul>
          <li>
            <NavLink href="/workers" current={props.area === "workers"}>Workers</NavLink>
          </li>
          <li>
            <NavLink href="/settings" current={props.area === "settings"}>Settings</NavLink>
          </li>
        </ul>
      </nav>
    </header>
  );
}

/** A settings page: section navigation on the left, the current one marked. */
export function SettingsLayout(
  props: { section: SettingsSection; children: ComponentChildren },
) {
  return (
    <>
      <Header area="settings" />
      <div class="layout">
        <div class="side">
          <nav class="section-nav" aria-label="Settings sections">
            <h2>Settings</h2>
            <ul>
              {SETTINGS_SECTIONS.map((s) => (
                <li key={s.id}>
                  <NavLink href={s.href} current={s.id === props.section}>{s.label}</NavLink>
                </li>
              ))}
            </ul>
          </nav>
          <LiveSidebar />
        </div>
        <main id="main">{props.children}</main>
      </div>
    </>
  );
}

/** A page outside settings (workers, console). */
export function AppLayout(props: { area: Area; children: ComponentChildren }) {
  return (
    <>
      <Header area={props.area} />
      <div class="layout">
        <div class="side">
          <LiveSidebar />
        </div>
        <main id="main">{props.children}</main>
      </div>
    </>
  );
}
