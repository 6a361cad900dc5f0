/**
 * The calendar plugin's console page builds into one module: the shared
 * modules (SDK, React Query, React) stay imports for the console's import
 * map, its form helpers are bundled in, and it calls the plugin's routes.
 */
import { expect, test } from "bun:test"
import { Manifest } from "@streamspace/kernel/host"
import calendar from "@streamspace/plugin-calendar"
import { PluginUiBuild } from "@streamspace/web"
import * as Path from "node:path"

const root = Path.join(import.meta.dir, "../../plugins/calendar")

test("the calendar page's manifest entry is valid and its module builds on its own", async () => {
  expect(Manifest.validate(calendar)).toEqual([])
  expect(PluginUiBuild.componentsOf(root)).toEqual(["ui/CalendarPage.tsx"])
  const [built] = await PluginUiBuild.build(root)
  expect(built!.name).toMatch(/^CalendarPage-[0-9a-f]{12}\.js$/)
  const source = new TextDecoder().decode(built!.bytes)
  expect(source).toContain('from"@streamspace/web/sdk"')
  expect(source).toContain('from"@tanstack/react-query"')
  expect(source).not.toContain("@mantine/core")
  expect(source).not.toContain("./lib/ScheduleForm")
  for (const path of ["/schedules", "/occurrences", "/feed/rotate", "/calendar.ics", "/connect/"])
    expect(source).toContain(path)
})
