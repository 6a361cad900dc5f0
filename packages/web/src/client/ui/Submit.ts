/** One form submission and what its failure says, in the server's words. */
import { type FormEvent, useState } from "react"
import { ApiError } from "../api/Problem.ts"

/** What went wrong, in the server's words when it said something. */
export const messageOf = (error: unknown): string =>
  error instanceof ApiError
    ? error.problem.detail || error.problem.title
    : error instanceof TypeError
      ? "the server could not be reached"
      : error instanceof Error
        ? error.message
        : "something went wrong"

/**
 * One form submission: prevents the page load, marks the form busy, clears
 * the last problem, and keeps the error `action` throws. The login page uses
 * it as is; forms with fields use `useSubmit` (Problems.tsx), which adds the
 * field errors and stays out of the first load.
 */
export const useFormSubmit = (action: () => Promise<unknown>) => {
  const [error, setError] = useState<unknown>()
  const [busy, setBusy] = useState(false)
  const submit = async (e?: FormEvent) => {
    e?.preventDefault()
    setBusy(true)
    setError(undefined)
    try {
      await action()
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }
  return { submit, busy, error, clear: () => setError(undefined) }
}
