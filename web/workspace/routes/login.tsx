/**
 * The admin login page (DESIGN §8): a plain HTML form, no JavaScript, so it works before any
 * session exists. Rendered by the web app for `GET /login` and for a refused `POST /login`.
 * @module
 */
import type { VNode } from "preact";

export interface LoginPageProps {
  /** Where to go after logging in (already made safe: a path on this origin). */
  next: string;
  /** Why the last attempt failed, if it did. */
  error?: string;
}

/** The login form: one password field `token`, the `next` path hidden. */
export function LoginPage(props: LoginPageProps): VNode {
  return (
    <>
      <header class="app-header">
        <a class="brand" href="/login">yoi workspace</a>
      </header>
      <div class="layout single">
        <main id="main">
          <h1>Log in</h1>
          <p>
            This Backend requires its admin token. It is checked once here; the browser then holds
            only a session cookie.
          </p>
          {props.error && <p class="notice danger" role="alert">{props.error}</p>}
          <form method="post" action="/login" class="form">
            <input type="hidden" name="next" value={props.next} />
            <div class="field">
              <label for="token">Admin token</label>
              <input
                id="token"
                name="token"
                type="password"
                autocomplete="current-password"
                required
              />
            </div>
            <button type="submit" class="button primary">Log in</button>
          </form>
        </main>
      </div>
    </>
  );
}
