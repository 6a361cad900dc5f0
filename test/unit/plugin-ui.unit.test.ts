/**
 * Plugin UI modules without a server: the manifest check of `ui` entries,
 * the bundling of a plugin folder's `ui/` (shared modules stay imports, one
 * self-contained file per component, hashed names), the resolver that
 * builds an external plugin's modules again when its folder changes, and
 * the SDK's guard that keeps a module's requests under its plugin's routes.
 */
import { afterAll, describe, expect, test } from "bun:test"
import { definePlugin } from "@streamspace/kernel"
import { Manifest } from "@streamspace/kernel/host"
import { PluginModules, PluginPaths, PluginUiBuild } from "@streamspace/web"
import { Layer } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
const { pluginUrl } = PluginPaths

const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ss-plugin-ui-"))
afterAll(() => Fs.rmSync(dir, { recursive: true, force: true }))

const plugin = (files: Record<string, string>) => {
  const root = Fs.mkdtempSync(Path.join(dir, "plugin-"))
  for (const [file, text] of Object.entries(files)) {
    Fs.mkdirSync(Path.dirname(Path.join(root, file)), { recursive: true })
    Fs.writeFileSync(Path.join(root, file), text)
  }
  return root
}

const page = `import { Card, usePluginApi } from "@streamspace/web/sdk"
import { useQuery } from "@tanstack/react-query"
import { label } from "./lib/label.ts"
export default function Page() {
  const api = usePluginApi()
  const q = useQuery({ queryKey: ["x"], queryFn: () => api.get("/x") })
  return <Card>{label(String(q.data))}</Card>
}
`

describe("manifest ui entries", () => {
  const withUi = (ui: ReadonlyArray<Record<string, unknown>>) =>
    Manifest.validate(
      definePlugin({
        id: "pages",
        name: "Pages",
        version: "1.0.0",
        type: "extension",
        category: "example",
        // Deliberately loose entries: the check is what is under test.
        ui: ui as never,
        layer: Layer.empty
      })
    ).map((e) => e.path)

  test("a component is a file directly in ui/; a page path is lowercase segments", () => {
    expect(withUi([{ kind: "page", id: "a", title: "A", path: "reports/daily", component: "ui/Page.tsx" }])).toEqual([])
    expect(
      withUi([
        { kind: "widget", id: "w", title: "W", component: "hello/GreetingsWidget.js" },
        { kind: "widget", id: "v", title: "V", component: "ui/../../etc/passwd.js" },
        { kind: "page", id: "p", title: "P", path: "/Reports", component: "ui/sub/Page.tsx" },
        { kind: "page", id: "p", title: "P again", path: "ok", component: "ui/Page.tsx" }
      ])
    ).toEqual([
      "pages.ui.0.component",
      "pages.ui.1.component",
      "pages.ui.2.component",
      "pages.ui.2.path",
      "pages.ui.3.id"
    ])
  })
})

describe("bundling a plugin's ui/ folder", () => {
  test("one minified module per component; shared modules stay imports, helpers are bundled in", async () => {
    const root = plugin({
      "ui/Page.tsx": page,
      "ui/lib/label.ts": "export const label = (s: string) => `label:${s}`\n",
      "ui/README.md": "not a component"
    })
    expect(PluginUiBuild.componentsOf(root)).toEqual(["ui/Page.tsx"])
    const [built] = await PluginUiBuild.build(root)
    expect(built!.component).toBe("ui/Page.tsx")
    expect(built!.name).toMatch(/^Page-[0-9a-f]{12}\.js$/)
    const source = new TextDecoder().decode(built!.bytes)
    expect(source).toContain('from"@streamspace/web/sdk"')
    expect(source).toContain('from"@tanstack/react-query"')
    expect(source).toContain('from"react/jsx-runtime"')
    expect(source).toContain("label:")
    expect(source).not.toContain("./lib/label")
  })

  test("a module importing a stylesheet, or a component outside ui/, is refused with the file named", async () => {
    const root = plugin({
      "ui/Styled.tsx": 'import "./styled.css"\nexport default () => null\n',
      "ui/styled.css": "a{}"
    })
    await expect(PluginUiBuild.build(root)).rejects.toThrow(/Styled\.tsx: a UI module must be one file/)
    await expect(PluginUiBuild.build(root, ["src/index.ts"])).rejects.toThrow(/directly in the plugin's ui\/ folder/)
  })

  test("an external plugin's module is built on first use and again when its folder changes", async () => {
    const root = plugin({ "ui/Page.tsx": page, "ui/lib/label.ts": "export const label = (s: string) => s\n" })
    const modules = PluginModules.make({
      format: 1,
      sourceHash: "x",
      entry: "/assets/main.js",
      styles: [],
      preload: [],
      importMap: { imports: {} },
      files: {},
      plugins: { bundled: { "ui/Page.tsx": "/assets/plugins/bundled/Page-1.js" } }
    })
    // Built with the console: listed, never rebuilt.
    expect(await modules.resolve({ id: "bundled", root: undefined }, "ui/Page.tsx")).toBe(
      "/assets/plugins/bundled/Page-1.js"
    )
    expect(await modules.resolve({ id: "ext", root: undefined }, "ui/Page.tsx")).toBeUndefined()
    const first = await modules.resolve({ id: "ext", root }, "ui/Page.tsx")
    expect(first).toMatch(/^\/assets\/plugins\/ext\/Page-\w+\.js$/)
    expect(modules.read(first!)).toBeInstanceOf(Uint8Array)
    expect(await modules.resolve({ id: "ext", root }, "ui/Page.tsx")).toBe(first!)
    expect(await modules.resolve({ id: "ext", root }, "ui/Missing.tsx")).toBeUndefined()
    Fs.writeFileSync(Path.join(root, "ui/lib/label.ts"), "export const label = (s: string) => `changed ${s}`\n")
    const second = await modules.resolve({ id: "ext", root }, "ui/Page.tsx")
    expect(second).not.toBe(first!)
    expect(new TextDecoder().decode(modules.read(second!))).toContain("changed")
  })
})

describe("the SDK's plugin API paths", () => {
  test("paths are relative to /api/plugins/<id>; ones that leave it throw", () => {
    expect(pluginUrl("hello", "/greetings")).toBe("/api/plugins/hello/greetings")
    expect(pluginUrl("hello", "greetings/a%20b?limit=5")).toBe("/api/plugins/hello/greetings/a%20b?limit=5")
    expect(pluginUrl("hello", "")).toBe("/api/plugins/hello")
    for (const bad of [
      "../admin/plugins",
      "/greetings/../../other/x",
      "%2e%2e/other",
      "a%2Fb",
      "https://evil.example/x",
      "//evil.example/x",
      "..\\other"
    ])
      expect(() => pluginUrl("hello", bad)).toThrow()
  })
})
