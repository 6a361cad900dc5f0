/**
 * CSV of audit entries, built in the browser from the filtered pages of
 * `GET /api/audit` (RFC 4180 quoting; cells that a spreadsheet would run as
 * a formula are prefixed with an apostrophe).
 */
import { saveBlob } from "../ui/SaveBlob.ts"

export interface AuditRow {
  readonly id: string
  readonly at: string
  readonly actorId: string | null
  readonly actor: string
  readonly action: string
  readonly target: string | null
  readonly ip: string
  readonly userAgent: string
  readonly result: string
  readonly detail: string | null
  readonly requestId: string | null
  readonly plugin: string | null
}

export const columns = [
  "at",
  "actor",
  "actorId",
  "action",
  "target",
  "result",
  "ip",
  "userAgent",
  "requestId",
  "plugin",
  "detail",
  "id"
] as const satisfies ReadonlyArray<keyof AuditRow>

const cell = (value: string | null): string => {
  if (value === null) return ""
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe
}

export const toCsv = (rows: ReadonlyArray<AuditRow>): string =>
  [columns.join(","), ...rows.map((r) => columns.map((c) => cell(r[c])).join(","))].join("\r\n") + "\r\n"

/** Offers text as a file download. */
export const download = (filename: string, text: string, type = "text/csv;charset=utf-8") =>
  saveBlob(new Blob([text], { type }), filename)
