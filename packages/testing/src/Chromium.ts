/** Where the browser tests find Debian's Chromium, and why they cannot run when it is missing. */
import * as Fs from "node:fs"

export const path = process.env["STREAMSPACE_CHROMIUM"] ?? "/usr/bin/chromium"

/** Why browser tests cannot run here, or undefined when they can. */
export const unavailable = (): string | undefined =>
  Fs.existsSync(path) ? undefined : `Chromium is not installed at ${path} (apt-get install chromium)`
