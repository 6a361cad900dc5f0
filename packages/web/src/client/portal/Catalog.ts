/** Pure helpers of the catalog: categories, icons. */
import {
  IconAppWindow,
  IconBrandChrome,
  IconCode,
  IconDeviceDesktop,
  IconFileText,
  IconMovie,
  IconPalette,
  IconSchool,
  IconTerminal2,
  IconTool
} from "@tabler/icons-react"
import type { ComponentType } from "react"

export interface TemplateLike {
  readonly name: string
  readonly category: string
  readonly tags: ReadonlyArray<string>
}

/** The distinct non-empty categories, sorted. */
export const categoriesOf = (templates: ReadonlyArray<Pick<TemplateLike, "category">>): ReadonlyArray<string> =>
  [...new Set(templates.map((t) => t.category.trim()).filter((c) => c.length > 0))].sort((a, b) => a.localeCompare(b))

const iconRules: ReadonlyArray<readonly [RegExp, ComponentType<{ readonly size?: number }>]> = [
  [/browser|web|firefox|chrom/i, IconBrandChrome],
  [/terminal|shell|xterm|console/i, IconTerminal2],
  [/dev|code|ide|program/i, IconCode],
  [/office|document|writer|text|pdf/i, IconFileText],
  [/graphic|design|image|paint|draw|gimp/i, IconPalette],
  [/media|video|audio|music|movie/i, IconMovie],
  [/educat|learn|school|course/i, IconSchool],
  [/util|tool|admin/i, IconTool],
  [/desktop|linux|xfce|kde|gnome/i, IconDeviceDesktop]
]

/** A Tabler icon from what the template says about itself (category, tags, name). */
export const iconFor = (t: TemplateLike): ComponentType<{ readonly size?: number }> => {
  const words = [t.category, ...t.tags, t.name].join(" ")
  return iconRules.find(([re]) => re.test(words))?.[1] ?? IconAppWindow
}

/**
 * The icon URL the console may load: its CSP allows images from its own
 * origin and data: URLs only, so another host's icon would be refused.
 */
export const usableIconUrl = (url: string | null | undefined): string | undefined => {
  if (!url) return undefined
  if (url.startsWith("data:image/")) return url
  if (url.startsWith("/") && !url.startsWith("//")) return url
  return undefined
}
