/**
 * Message templates with `{{name}}` placeholders, for providers whose
 * operators write their own wording (email subjects and bodies). Values are
 * HTML-escaped in HTML templates; `{{fields}}` becomes "Label: value" lines
 * in text and a table in HTML. Unknown placeholders are config errors.
 */
import { Schema } from "effect"
import type { Notice } from "./Notice.ts"

export const placeholders = ["title", "text", "severity", "event", "time", "fields", "user", "app"] as const

const pattern = /\{\{\s*([a-zA-Z]+)\s*\}\}/g

/** A template string whose placeholders are all known. */
export const Template = Schema.String.pipe(
  Schema.minLength(1),
  Schema.filter((s) => {
    const unknown = [...s.matchAll(pattern)]
      .map((m) => m[1]!)
      .filter((name) => !(placeholders as ReadonlyArray<string>).includes(name))
    return (
      unknown.length === 0 ||
      `unknown placeholder ${unknown.map((u) => `{{${u}}}`).join(", ")}; known: ${placeholders.map((p) => `{{${p}}}`).join(", ")}`
    )
  })
)

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!)

const values = (notice: Notice) => ({
  title: notice.title,
  text: notice.text,
  severity: notice.severity,
  event: notice.type,
  time: notice.occurredAt.toISOString(),
  user: notice.user?.username ?? "",
  app: notice.template?.displayName ?? ""
})

export const renderText = (template: string, notice: Notice) => {
  const v: Record<string, string> = {
    ...values(notice),
    fields: notice.fields.map((f) => `${f.label}: ${f.value}`).join("\n")
  }
  return template.replace(pattern, (_, name: string) => v[name] ?? "")
}

export const renderHtml = (template: string, notice: Notice) => {
  const rows = notice.fields
    .map(
      (f) =>
        `<tr><th align="left" style="padding:2px 12px 2px 0">${escapeHtml(f.label)}</th><td>${escapeHtml(f.value)}</td></tr>`
    )
    .join("")
  const v: Record<string, string> = {
    ...Object.fromEntries(Object.entries(values(notice)).map(([k, x]) => [k, escapeHtml(x)])),
    fields: `<table>${rows}</table>`
  }
  return template.replace(pattern, (_, name: string) => v[name] ?? "")
}
