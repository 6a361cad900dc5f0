/** The part of noVNC 1.7's `RFB` (docs/API.md of @novnc/novnc) the viewer uses; the package ships no types. */
declare module "@novnc/novnc" {
  export interface RfbOptions {
    readonly shared?: boolean
    readonly credentials?: { readonly username?: string; readonly password?: string; readonly target?: string }
    readonly repeaterID?: string
    readonly wsProtocols?: ReadonlyArray<string>
  }

  export interface RfbEventMap {
    readonly connect: CustomEvent<undefined>
    readonly disconnect: CustomEvent<{ readonly clean: boolean }>
    readonly clipboard: CustomEvent<{ readonly text: string }>
    readonly desktopname: CustomEvent<{ readonly name: string }>
    readonly securityfailure: CustomEvent<{ readonly status: number; readonly reason?: string }>
    readonly credentialsrequired: CustomEvent<{ readonly types: ReadonlyArray<string> }>
    readonly bell: CustomEvent<undefined>
  }

  export default class RFB {
    constructor(target: HTMLElement, urlOrChannel: string | WebSocket, options?: RfbOptions)
    viewOnly: boolean
    scaleViewport: boolean
    resizeSession: boolean
    clipViewport: boolean
    focusOnClick: boolean
    background: string
    qualityLevel: number
    compressionLevel: number
    showDotCursor: boolean
    addEventListener<K extends keyof RfbEventMap>(type: K, listener: (event: RfbEventMap[K]) => void): void
    removeEventListener<K extends keyof RfbEventMap>(type: K, listener: (event: RfbEventMap[K]) => void): void
    disconnect(): void
    sendCtrlAltDel(): void
    clipboardPasteFrom(text: string): void
    focus(options?: FocusOptions): void
    blur(): void
  }
}
