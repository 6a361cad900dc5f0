/**
 * The catalog a fresh installation starts with, so a first user can launch
 * a desktop straight away: one terminal. Installed once, on the boot that
 * creates the first admin; an operator who removes it does not get it back.
 */
import { Effect, Schema } from "effect"
import { now } from "../Timestamps.ts"
import { CreateTemplate } from "./TemplateModel.ts"
import { columnsOf, TemplateRepo } from "./TemplateRepo.ts"

export const starterTemplates: ReadonlyArray<typeof CreateTemplate.Encoded> = [
  {
    name: "terminal",
    displayName: "Terminal",
    description: "An xterm on a desktop of its own. On the local runtime it runs the xterm installed on this machine.",
    category: "development",
    tags: ["terminal", "shell"],
    image: "streamspace/xterm:latest"
  }
]

export const install = Effect.gen(function* () {
  const repo = yield* TemplateRepo
  const at = yield* now
  for (const template of starterTemplates) {
    const input = yield* Schema.decode(CreateTemplate)(template).pipe(Effect.orDie)
    yield* repo.insert(crypto.randomUUID(), columnsOf(input), at)
  }
})
