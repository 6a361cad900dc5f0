/**
 * How the console shows a failed request: the server's problem detail in an
 * alert unless the form shows each field error (`problem.errors[].path`)
 * next to its field.
 */
import { Alert } from "@mantine/core"
import { IconAlertTriangle } from "@tabler/icons-react"
import { ApiError, fieldErrors } from "../api/Problem.ts"
import { messageOf, useFormSubmit } from "./Submit.ts"

export { messageOf } from "./Submit.ts"

/** A failed request's field errors keyed by field (`body.name` → `name`). */
export const fieldErrorsOf = (error: unknown): Record<string, string> =>
  error instanceof ApiError ? fieldErrors(error.problem) : {}

/** The error of a field or, failing that, of the first of its items (`scopes.0`), for inputs that edit a list. */
export const listFieldError = (fields: Record<string, string>, field: string): string | undefined =>
  fields[field] ?? Object.entries(fields).find(([k]) => k.startsWith(`${field}.`))?.[1]

/** `useFormSubmit` with the failure's field errors (`fields`), for forms that show them next to their fields. */
export const useSubmit = (action: () => Promise<unknown>) => {
  const submission = useFormSubmit(action)
  return { ...submission, fields: fieldErrorsOf(submission.error) }
}

/** Alert titles in the body colour: Mantine's light-variant titles fail WCAG contrast. */
export const readableAlertTitle = { title: { color: "var(--mantine-color-text)" } } as const

/** The server's problem detail as an alert; nothing when there is no error. */
export const ErrorAlert = ({
  error,
  title,
  mb
}: {
  readonly error: unknown
  readonly title: string
  readonly mb?: "md"
}) =>
  error === undefined || error === null ? null : (
    <Alert
      color="red"
      role="alert"
      title={title}
      icon={<IconAlertTriangle size={18} />}
      styles={readableAlertTitle}
      mb={mb}
    >
      {messageOf(error)}
    </Alert>
  )

/**
 * The problem of a failed submission unless every field error it names is
 * shown next to its field: `placed` names the fields that display their own
 * error (a name also covers its nested paths, `scopes` covers `scopes.0`).
 */
export const ProblemAlert = ({
  error,
  placed,
  title
}: {
  readonly error: unknown
  readonly placed: ReadonlyArray<string>
  readonly title: string
}) => {
  const fields = Object.keys(fieldErrorsOf(error))
  const allPlaced = fields.length > 0 && fields.every((f) => placed.some((p) => f === p || f.startsWith(`${p}.`)))
  return allPlaced ? null : <ErrorAlert error={error} title={title} />
}
