/**
 * Serves a built console: hashed assets as immutable files, and `index.html`
 * (with the import map and a strict Content-Security-Policy) for every other
 * GET the API does not answer, so deep links reach the single-page app.
 * Plugins' UI modules are served from the same hashed `/assets/` space
 * (`PluginModules`: built with the console, or at load for external ones).
 */
import { createHash } from "node:crypto"
import * as Fs from "node:fs"
import * as Path from "node:path"
import type { ConsoleManifest } from "./ConsoleBuild.ts"
import * as PluginModules from "./PluginModules.ts"

/** Where the built files are read from: a directory, or files embedded in an executable. */
export interface FileSource {
  readonly read: (file: string) => Blob | undefined
}

export const directorySource = (dir: string): FileSource => ({
  read: (file) => {
    const path = Path.join(dir, file)
    return Fs.existsSync(path) ? Bun.file(path) : undefined
  }
})

/** Files embedded in an executable (`with { type: "file" }`), by their path in the build output. */
export const embeddedSource = (files: Readonly<Record<string, Blob>>): FileSource => ({
  read: (file) => files[file]
})

export interface ConsoleAssets {
  readonly manifest: ConsoleManifest
  /** Plugins' UI modules: `modules.resolve` is what the server hands the kernel's `UiRegistry`. */
  readonly modules: PluginModules.PluginModules
  /** The response for a GET/HEAD outside the API, or undefined when the console has nothing there. */
  readonly handle: (request: Request) => Response | undefined
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** `index.html` and the CSP hash of its one inline script (the import map). */
const indexDocument = (manifest: ConsoleManifest) => {
  const importMap = JSON.stringify(manifest.importMap)
  const importMapHash = createHash("sha256").update(importMap).digest("base64")
  const html = [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    "<title>StreamSpace</title>",
    '<link rel="icon" href="data:,">',
    `<script type="importmap">${importMap}</script>`,
    ...manifest.styles.map((href) => `<link rel="stylesheet" href="${escapeHtml(href)}">`),
    ...manifest.preload.map((href) => `<link rel="modulepreload" href="${escapeHtml(href)}">`),
    `<script type="module" src="${escapeHtml(manifest.entry)}"></script>`,
    "</head>",
    '<body><div id="root"></div><noscript>The StreamSpace console needs JavaScript.</noscript></body>',
    "</html>"
  ].join("\n")
  return { html, importMapHash }
}

export const contentSecurityPolicy = (importMapHash: string) =>
  [
    "default-src 'self'",
    `script-src 'self' 'sha256-${importMapHash}'`,
    // Mantine sets inline style attributes and one <style> element for its CSS variables.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'"
  ].join("; ")

const securityHeaders = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY"
}

/** Paths that are never the console's (the API and the probes answer them, or 404 as JSON). */
const isApiPath = (pathname: string) =>
  pathname === "/api" || pathname.startsWith("/api/") || pathname === "/healthz" || pathname === "/readyz"

const immutable = (body: Blob | Uint8Array, type: string) =>
  new Response(body, {
    headers: {
      "content-type": type,
      "cache-control": "public, max-age=31536000, immutable",
      ...securityHeaders
    }
  })

export const make = (manifest: ConsoleManifest, source: FileSource): ConsoleAssets => {
  const { html, importMapHash } = indexDocument(manifest)
  const modules = PluginModules.make(manifest)
  const csp = contentSecurityPolicy(importMapHash)
  const index = () =>
    new Response(html, {
      headers: {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-cache",
        "content-security-policy": csp,
        ...securityHeaders
      }
    })
  return {
    manifest,
    modules,
    handle: (request) => {
      if (request.method !== "GET" && request.method !== "HEAD") return undefined
      const pathname = new URL(request.url).pathname
      if (isApiPath(pathname)) return undefined
      const asset = manifest.files[pathname]
      if (asset) {
        const blob = source.read(asset.file)
        if (!blob) return undefined
        return immutable(blob, asset.type)
      }
      const pluginModule = modules.read(pathname)
      if (pluginModule) return immutable(pluginModule, "text/javascript; charset=utf-8")
      // A missing hashed file is a 404 (a stale tab after an upgrade), not the app.
      if (pathname.startsWith("/assets/")) return undefined
      return index()
    }
  }
}
