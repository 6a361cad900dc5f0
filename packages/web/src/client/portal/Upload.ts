/**
 * File upload with progress: XMLHttpRequest, because fetch reports no
 * upload progress. The body is the raw file (the server streams it), the
 * name goes in `?name=`; a 401 refreshes the login once and sends again.
 */
import { ApiError, problemOf } from "../api/Problem.ts"
import * as Tokens from "../api/Tokens.ts"
import type { UploadProgress } from "./SessionState.ts"

export const uploadUrl = (sessionId: string, name: string) =>
  `/api/sessions/${encodeURIComponent(sessionId)}/files?name=${encodeURIComponent(name)}`

const send = (
  url: string,
  file: File,
  token: string | undefined,
  onProgress: (p: UploadProgress) => void,
  signal?: AbortSignal
) =>
  new Promise<{ status: number; body: unknown }>((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open("POST", url)
    if (token) xhr.setRequestHeader("authorization", `Bearer ${token}`)
    xhr.setRequestHeader("content-type", file.type || "application/octet-stream")
    xhr.upload.onprogress = (e) => onProgress({ loaded: e.loaded, total: e.lengthComputable ? e.total : file.size })
    xhr.onload = () => {
      let body: unknown
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : undefined
      } catch {
        body = undefined
      }
      resolve({ status: xhr.status, body })
    }
    xhr.onerror = () => reject(new Error("the upload failed: the server could not be reached"))
    xhr.onabort = () => reject(new Error("the upload was cancelled"))
    signal?.addEventListener("abort", () => xhr.abort(), { once: true })
    xhr.send(file)
  })

export const uploadFile = async <T>(
  sessionId: string,
  file: File,
  onProgress: (p: UploadProgress) => void,
  signal?: AbortSignal
): Promise<T> => {
  const url = uploadUrl(sessionId, file.name)
  let res = await send(url, file, await Tokens.accessToken(), onProgress, signal)
  if (res.status === 401) {
    const token = await Tokens.refresh()
    if (token) res = await send(url, file, token, onProgress, signal)
  }
  if (res.status < 200 || res.status >= 300) throw new ApiError(problemOf(res.status, res.body))
  return res.body as T
}
