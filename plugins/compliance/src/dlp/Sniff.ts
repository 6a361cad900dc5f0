/**
 * File type by content (magic bytes), not by name: what a policy's
 * allow/deny lists compare against. Types are short names (`pdf`, `png`,
 * `zip`, `exe`, …); `text` is valid UTF-8 without control bytes; anything
 * else is `binary`. Office documents are zip containers: a zip whose first
 * entry is `[Content_Types].xml` is `ooxml`.
 */

const startsWith = (bytes: Uint8Array, signature: ReadonlyArray<number>, offset = 0) =>
  bytes.length >= offset + signature.length && signature.every((b, i) => bytes[offset + i] === b)

const ascii = (bytes: Uint8Array, from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to))

export const fileTypes: ReadonlyArray<string> = [
  "pdf",
  "png",
  "jpeg",
  "gif",
  "webp",
  "bmp",
  "tiff",
  "zip",
  "ooxml",
  "gzip",
  "bzip2",
  "xz",
  "7z",
  "rar",
  "exe",
  "elf",
  "macho",
  "script",
  "wasm",
  "ole",
  "text",
  "binary",
  "empty"
]

export const sniff = (bytes: Uint8Array): string => {
  if (bytes.length === 0) return "empty"
  if (startsWith(bytes, [0x25, 0x50, 0x44, 0x46, 0x2d])) return "pdf"
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "png"
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "jpeg"
  if (startsWith(bytes, [0x47, 0x49, 0x46, 0x38])) return "gif"
  if (startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && ascii(bytes, 8, 12) === "WEBP") return "webp"
  if (startsWith(bytes, [0x42, 0x4d]) && bytes.length > 14) return "bmp"
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return "tiff"
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) {
    const nameLength = (bytes[26] ?? 0) | ((bytes[27] ?? 0) << 8)
    return ascii(bytes, 30, 30 + nameLength) === "[Content_Types].xml" ? "ooxml" : "zip"
  }
  if (startsWith(bytes, [0x50, 0x4b, 0x05, 0x06])) return "zip"
  if (startsWith(bytes, [0x1f, 0x8b])) return "gzip"
  if (startsWith(bytes, [0x42, 0x5a, 0x68])) return "bzip2"
  if (startsWith(bytes, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return "xz"
  if (startsWith(bytes, [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c])) return "7z"
  if (startsWith(bytes, [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07])) return "rar"
  if (startsWith(bytes, [0x4d, 0x5a])) return "exe"
  if (startsWith(bytes, [0x7f, 0x45, 0x4c, 0x46])) return "elf"
  if (
    startsWith(bytes, [0xfe, 0xed, 0xfa, 0xce]) ||
    startsWith(bytes, [0xfe, 0xed, 0xfa, 0xcf]) ||
    startsWith(bytes, [0xcf, 0xfa, 0xed, 0xfe]) ||
    startsWith(bytes, [0xca, 0xfe, 0xba, 0xbe])
  )
    return "macho"
  if (startsWith(bytes, [0x00, 0x61, 0x73, 0x6d])) return "wasm"
  if (startsWith(bytes, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1])) return "ole"
  if (startsWith(bytes, [0x23, 0x21])) return "script"
  // Like file(1), the first bytes decide: 8 KiB.
  return isText(bytes.subarray(0, 8192)) ? "text" : "binary"
}

/** UTF-8 that decodes, without NUL or other C0 controls but tab, newline, carriage return, form feed. */
export const isText = (bytes: Uint8Array): boolean => {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c) return false
  }
  try {
    // A sample may end inside a multi-byte character: ignore an incomplete tail.
    new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, trimIncomplete(bytes)))
    return true
  } catch {
    return false
  }
}

const trimIncomplete = (bytes: Uint8Array) => {
  const end = bytes.length
  for (let back = 1; back <= 3 && end - back >= 0; back++) {
    const b = bytes[end - back]!
    if ((b & 0xc0) === 0x80) continue
    if ((b & 0xc0) === 0xc0) return end - back
    break
  }
  return end
}

/** Text worth inspecting in a file's first bytes: UTF-8 text, or the printable runs of a binary. */
export const inspectableText = (bytes: Uint8Array, type: string): string => {
  if (type === "text" || type === "script") return new TextDecoder("utf-8").decode(bytes)
  // Printable ASCII runs of 8+ (what `strings` shows): finds secrets in PDFs' uncompressed streams, archives' names.
  let out = ""
  let run = ""
  for (const b of bytes) {
    if (b >= 0x20 && b < 0x7f) run += String.fromCharCode(b)
    else {
      if (run.length >= 8) out += `${run}\n`
      run = ""
    }
  }
  if (run.length >= 8) out += run
  return out
}
