/** RFB's PIXEL_FORMAT (RFC 6143 §7.4): 16 bytes in ServerInit and SetPixelFormat. */

export interface PixelFormat {
  readonly bitsPerPixel: 8 | 16 | 32
  readonly depth: number
  readonly bigEndian: boolean
  readonly trueColour: boolean
  readonly redMax: number
  readonly greenMax: number
  readonly blueMax: number
  readonly redShift: number
  readonly greenShift: number
  readonly blueShift: number
}

/** 32 bits per pixel, depth 24, little-endian true colour: what servers usually offer and noVNC asks for. */
export const rgb888: PixelFormat = {
  bitsPerPixel: 32,
  depth: 24,
  bigEndian: false,
  trueColour: true,
  redMax: 255,
  greenMax: 255,
  blueMax: 255,
  redShift: 16,
  greenShift: 8,
  blueShift: 0
}

/** 16 bits per pixel, 5-6-5 true colour: the usual low-bandwidth choice of clients. */
export const rgb565: PixelFormat = {
  ...rgb888,
  bitsPerPixel: 16,
  depth: 16,
  redMax: 31,
  greenMax: 63,
  blueMax: 31,
  redShift: 11,
  greenShift: 5,
  blueShift: 0
}

export const encode = (format: PixelFormat): Uint8Array => {
  const bytes = new Uint8Array(16)
  const view = new DataView(bytes.buffer)
  view.setUint8(0, format.bitsPerPixel)
  view.setUint8(1, format.depth)
  view.setUint8(2, format.bigEndian ? 1 : 0)
  view.setUint8(3, format.trueColour ? 1 : 0)
  view.setUint16(4, format.redMax)
  view.setUint16(6, format.greenMax)
  view.setUint16(8, format.blueMax)
  view.setUint8(10, format.redShift)
  view.setUint8(11, format.greenShift)
  view.setUint8(12, format.blueShift)
  return bytes
}

/** The pixel format in 16 bytes, or undefined when its bits per pixel are not 8, 16 or 32. */
export const decode = (bytes: Uint8Array): PixelFormat | undefined => {
  if (bytes.length < 16) return undefined
  const view = new DataView(bytes.buffer, bytes.byteOffset, 16)
  const bitsPerPixel = view.getUint8(0)
  if (bitsPerPixel !== 8 && bitsPerPixel !== 16 && bitsPerPixel !== 32) return undefined
  return {
    bitsPerPixel,
    depth: view.getUint8(1),
    bigEndian: view.getUint8(2) !== 0,
    trueColour: view.getUint8(3) !== 0,
    redMax: view.getUint16(4),
    greenMax: view.getUint16(6),
    blueMax: view.getUint16(8),
    redShift: view.getUint8(10),
    greenShift: view.getUint8(11),
    blueShift: view.getUint8(12)
  }
}
