/** `bun run build:web`: builds the web console into packages/web/dist (the server also builds it when stale). */
import { ConsoleBuild } from "@streamspace/web"

await ConsoleBuild.build()
