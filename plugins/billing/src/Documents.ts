/** An invoice as a PDF (pdf-lib, standard Helvetica) and as CSV (RFC 4180). */
import { PDFDocument, StandardFonts, rgb } from "pdf-lib"
import type { Invoice } from "./Invoices.ts"
import type { Settings } from "./Settings.ts"

const day = (d: Date | null) => (d ? d.toISOString().slice(0, 10) : "-")

/** Text the standard fonts can draw (WinAnsi): other characters become "?". */
const drawable = (s: string) => s.replace(/[^\x20-\x7e\xa0-\xff]/g, "?")

export const invoicePdf = async (
  invoice: Invoice,
  customer: string,
  billTo?: Pick<Settings, "billingEmail" | "companyName" | "taxId" | "addressLines">
): Promise<Uint8Array> => {
  const doc = await PDFDocument.create()
  doc.setTitle(`Invoice ${invoice.number ?? "(draft)"}`)
  doc.setProducer("StreamSpace billing")
  const font = await doc.embedFont(StandardFonts.Helvetica)
  const bold = await doc.embedFont(StandardFonts.HelveticaBold)
  let page = doc.addPage([595, 842])
  let y = 790
  const text = (s: string, x: number, size = 10, f = font) =>
    page.drawText(drawable(s), { x, y, size, font: f, color: rgb(0, 0, 0) })
  const right = (s: string, xRight: number, size = 10, f = font) =>
    text(s, xRight - f.widthOfTextAtSize(drawable(s), size), size, f)
  text(invoice.status === "draft" ? "DRAFT INVOICE" : "INVOICE", 50, 18, bold)
  right(invoice.number ?? "(no number yet)", 545, 12, bold)
  y -= 30
  for (const [label, value] of [
    ["Customer", customer],
    ["Period", `${day(invoice.periodStart)} to ${day(new Date(invoice.periodEnd.getTime() - 1))}`],
    ["Issued", day(invoice.issuedAt)],
    ["Due", day(invoice.dueAt)],
    ["Status", invoice.status],
    ["Currency", invoice.currency]
  ] as const) {
    text(`${label}:`, 50, 10, bold)
    text(value, 130, 10)
    y -= 15
  }
  const billed = [
    billTo?.companyName,
    ...(billTo?.addressLines ?? []),
    billTo?.billingEmail,
    billTo?.taxId ? `Tax id: ${billTo.taxId}` : undefined
  ].filter((l): l is string => typeof l === "string" && l !== "")
  if (billed.length > 0) {
    y -= 5
    text("Bill to:", 50, 10, bold)
    for (const l of billed) {
      text(l.slice(0, 90), 130, 10)
      y -= 15
    }
  }
  y -= 15
  text("Description", 50, 10, bold)
  right("Quantity", 330, 10, bold)
  right("Rate", 430, 10, bold)
  right("Amount", 545, 10, bold)
  y -= 6
  page.drawLine({ start: { x: 50, y }, end: { x: 545, y }, thickness: 0.5 })
  y -= 14
  for (const line of invoice.lines) {
    if (y < 120) {
      page = doc.addPage([595, 842])
      y = 790
    }
    text(line.description.slice(0, 48), 50)
    right(`${line.quantity} ${line.unit}`, 330)
    right(line.rate, 430)
    right(line.amount, 545)
    y -= 15
  }
  y -= 6
  page.drawLine({ start: { x: 300, y }, end: { x: 545, y }, thickness: 0.5 })
  y -= 16
  for (const [label, value, f] of [
    ["Subtotal", invoice.subtotal, font],
    ["Credits", invoice.credits === "0.00" ? "0.00" : `-${invoice.credits}`, font],
    ["Total", `${invoice.total} ${invoice.currency}`, bold]
  ] as const) {
    right(`${label}:`, 430, 11, f)
    right(value, 545, 11, f)
    y -= 16
  }
  return doc.save()
}

const cell = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v)
export const toCsv = (rows: ReadonlyArray<ReadonlyArray<string>>) =>
  `${rows.map((r) => r.map(cell).join(",")).join("\r\n")}\r\n`

/** RFC 4180 parsing (quoted fields, doubled quotes, CRLF or LF). */
export const parseCsv = (text: string): Array<Array<string>> => {
  const rows: Array<Array<string>> = []
  let row: Array<string> = []
  let field = ""
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"'
        i++
      } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ",") {
      row.push(field)
      field = ""
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++
      row.push(field)
      rows.push(row)
      row = []
      field = ""
    } else field += c
  }
  if (field !== "" || row.length > 0) {
    row.push(field)
    rows.push(row)
  }
  return rows
}

export const invoiceCsv = (invoice: Invoice) => {
  /** Every row starts with the invoice's own columns. */
  const invoiceColumns = [
    invoice.id,
    invoice.number ?? "",
    invoice.periodStart.toISOString(),
    invoice.periodEnd.toISOString(),
    invoice.currency
  ]
  const summary = (label: string, amount: string) => [...invoiceColumns, "", label, "", "", "", "", amount]
  return toCsv([
    [
      "invoice",
      "number",
      "period_start",
      "period_end",
      "currency",
      "line",
      "description",
      "resource",
      "quantity",
      "unit",
      "rate",
      "amount"
    ],
    ...invoice.lines.map((l) => [
      ...invoiceColumns,
      String(l.position),
      l.description,
      l.resource,
      l.quantity,
      l.unit,
      l.rate,
      l.amount
    ]),
    summary("SUBTOTAL", invoice.subtotal),
    summary("CREDITS", invoice.credits),
    summary("TOTAL", invoice.total)
  ])
}
