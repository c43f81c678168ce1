/** Placeholder: being built. */
import { AppLayout } from "../../components/layout.tsx";
import type { Route } from "../../route.ts";

const page: Route = () =>
  Promise.resolve({
    title: "Coming soon",
    body: (
      <AppLayout area="workers">
        <h1>Coming soon</h1>
      </AppLayout>
    ),
  });

export default page;
