/** Where a plugin's routes are, and the check that keeps a plugin module's requests inside them. */

/** `path` under `/api/plugins/<plugin>`; throws when it is not a plain relative path. */
export const pluginUrl = (plugin: string, path: string): string => {
  const [pathname = "", ...rest] = path.split("?")
  const query = rest.length > 0 ? `?${rest.join("?")}` : ""
  const segments = pathname.split("/").filter((s) => s !== "")
  if (/^[a-z][a-z0-9+.-]*:/i.test(path) || path.startsWith("//") || path.includes("\\"))
    throw new Error(`usePluginApi: ${path} is not a path of plugin ${plugin}'s routes`)
  for (const s of segments) {
    let decoded: string
    try {
      decoded = decodeURIComponent(s)
    } catch {
      throw new Error(`usePluginApi: ${path} is not a valid path`)
    }
    if (decoded === "." || decoded === ".." || decoded.includes("/"))
      throw new Error(`usePluginApi: ${path} leaves plugin ${plugin}'s routes`)
  }
  return `/api/plugins/${encodeURIComponent(plugin)}${segments.length > 0 ? `/${segments.join("/")}` : ""}${query}`
}
