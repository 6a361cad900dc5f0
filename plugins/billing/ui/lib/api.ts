/** Shapes of billing's API as the UI modules read them, and a download helper. */
import type { PluginApi } from "@streamspace/web/sdk"

export interface Amount {
  readonly amount: string
  readonly amountMinor: number
}
export interface Current {
  readonly currency: string
  readonly periodStart: string
  readonly periodEnd: string
  readonly through: string
  readonly total: Amount
  readonly byResource: { readonly cpu: Amount; readonly memory: Amount; readonly storage: Amount }
}
export interface ForecastBody {
  readonly currency: string
  readonly method: string
  readonly toDate: Amount
  readonly projected: Amount
  readonly total: Amount
}
export interface InvoiceBody {
  readonly id: string
  readonly number: string | null
  readonly userId: string
  readonly status: string
  readonly periodStart: string
  readonly periodEnd: string
  readonly currency: string
  readonly subtotal: string
  readonly credits: string
  readonly total: string
  readonly lines: ReadonlyArray<{
    readonly description: string
    readonly quantity: string
    readonly unit: string
    readonly rate: string
    readonly amount: string
  }>
}
export interface Breakdown {
  readonly currency: string
  readonly total: Amount
  readonly items: ReadonlyArray<{ readonly key: string; readonly label: string; readonly total: Amount }>
}

export const day = (iso: string) => iso.slice(0, 10)

/** Downloads one of the plugin's files (PDF, CSV) with the console's login. */
export const download = async (api: PluginApi, path: string, filename: string) => {
  const res = await api.fetch(path)
  if (!res.ok) throw new Error(`download failed: ${res.status}`)
  const url = URL.createObjectURL(await res.blob())
  const a = document.createElement("a")
  a.href = url
  a.download = filename
  a.click()
  URL.revokeObjectURL(url)
}
