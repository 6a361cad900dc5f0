/** A stored report as a PDF (pdf-lib, standard Helvetica): header, summary, one line per control. */
import { PDFDocument, StandardFonts } from "pdf-lib"

/** Helvetica's WinAnsi encoding: anything else becomes "?" (ASCII fallbacks for the common ones first). */
const drawable = (s: string) =>
  s
    .replace(/[–—]/g, "-")
    .replace(/≥/g, ">=")
    .replace(/≤/g, "<=")
    .replace(/→/g, "->")
    .replace(/[^\x20-\x7e\xa0-\xff]/g, "?")

interface ReportContent {
  readonly framework: {
    readonly id: string
    readonly name: string
    readonly version: string
    readonly catalogueVersion: number
  }
  readonly type: string
  readonly period: { readonly from: string; readonly to: string }
  readonly overallStatus: string
  readonly controlsSummary: Readonly<Record<string, number | null>>
  readonly controls: ReadonlyArray<{
    readonly id: string
    readonly title: string
    readonly status: string
    readonly summary: string
  }>
}

export const reportPdf = async (id: string, sha256: string, content: ReportContent): Promise<Uint8Array> => {
  const doc = await PDFDocument.create()
  doc.setTitle(`Compliance report ${content.framework.id} ${id}`)
  doc.setProducer("StreamSpace compliance")
  doc.setCreationDate(new Date(content.period.to))
  doc.setModificationDate(new Date(content.period.to))
  const font = await doc.embedFont(StandardFonts.Helvetica)
  const bold = await doc.embedFont(StandardFonts.HelveticaBold)
  let page = doc.addPage([595, 842])
  let y = 800
  const line = (text: string, size = 9, f = font) => {
    if (y < 50) {
      page = doc.addPage([595, 842])
      y = 800
    }
    const clipped = drawable(text)
    page.drawText(clipped.length > 120 ? `${clipped.slice(0, 117)}...` : clipped, { x: 40, y, size, font: f })
    y -= size + 5
  }
  line(`${content.framework.name} - ${content.type} report`, 16, bold)
  line(`Catalogue ${content.framework.id} v${content.framework.catalogueVersion} (${content.framework.version})`)
  line(`Period ${content.period.from} to ${content.period.to}`)
  line(`Report ${id}`)
  line(`SHA-256 of the JSON report: ${sha256}`)
  y -= 6
  line(`Overall: ${content.overallStatus}`, 12, bold)
  line(
    Object.entries(content.controlsSummary)
      .map(([k, v]) => `${k} ${v ?? "-"}`)
      .join(", ")
  )
  y -= 6
  line("Controls", 12, bold)
  for (const c of content.controls) {
    line(`${c.id}  [${c.status}]  ${c.title}`, 9, bold)
    line(`    ${c.summary}`)
  }
  return doc.save({ useObjectStreams: false })
}
