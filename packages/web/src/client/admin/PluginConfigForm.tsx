/**
 * A plugin's configuration form, generated from the JSON Schema the server
 * sends with the config (`GET /api/admin/plugins/:id/config`) by
 * @rjsf/core with the Mantine theme. Loaded lazily: rjsf and ajv are large.
 *
 * - Enums render as selects, arrays and nested objects as rjsf draws them,
 *   defaults come from the schema.
 * - The server validates (the plugin's Effect Schema is the authority):
 *   the form submits without client-side validation and maps the problem
 *   document's `errors[].path` (`body.tickSeconds`, `body.a.b`, `body.list.0`)
 *   onto the fields with rjsf's `extraErrors`, so each message shows next to
 *   its field.
 * - Numbers use a plain text input: Mantine's NumberInput clamps on blur,
 *   which would hide the server's min/max message.
 * - Secret fields (`writeOnly: true`, from `PluginConfig.secret`) are
 *   write-only: the server returns the mask for a set secret, which never
 *   reaches an input; the field says "set" and offers "Replace". Left empty,
 *   the stored secret is kept (the key is not sent).
 */
import { Badge, Button, Group, PasswordInput, Stack, Text, TextInput } from "@mantine/core"
import Form from "@rjsf/mantine"
import type { ErrorSchema, RJSFSchema, UiSchema, WidgetProps } from "@rjsf/utils"
import validator from "@rjsf/validator-ajv8"
import { useQueryClient } from "@tanstack/react-query"
import { useEffect, useMemo, useState } from "react"
import { fetchJson } from "../api/ApiClient.ts"
import { ApiError } from "../api/Problem.ts"
import { ErrorAlert, notifyDone } from "./AdminUi.tsx"

type JsonObject = Record<string, unknown>

const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v)

/** `tickSeconds` → "Tick seconds", `webhookURL` → "Webhook URL". */
export const humanize = (key: string) => {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/[_-]+/g, " ")
    .trim()
    .toLowerCase()
    .replace(/\b(url|id|api|smtp|http|ip|dns)\b/g, (w) => w.toUpperCase())
  return words.charAt(0).toUpperCase() + words.slice(1)
}

interface FormContext {
  /** Secret keys that have a stored value (the server answered the mask for them). */
  readonly secretsSet: ReadonlySet<string>
}

/** A number typed as text: what was typed is kept (so "abc" reaches the server and its message shows). */
const NumberTextWidget = (props: WidgetProps) => {
  const { id, value, onChange, onBlur, onFocus, label, required, disabled, readonly, rawErrors, schema } = props
  const [text, setText] = useState(value === undefined || value === null ? "" : String(value))
  useEffect(() => {
    if (typeof value === "number" && Number(text) !== value) setText(String(value))
    if (value === undefined && text !== "") setText("")
  }, [value, text])
  return (
    <TextInput
      id={id}
      name={id}
      label={label}
      required={required}
      disabled={disabled || readonly}
      inputMode={schema.type === "integer" ? "numeric" : "decimal"}
      description={schema.description}
      value={text}
      error={rawErrors && rawErrors.length > 0 ? rawErrors.join("\n") : undefined}
      onChange={(e) => {
        const raw = e.currentTarget.value
        setText(raw)
        const trimmed = raw.trim()
        onChange(trimmed === "" ? undefined : /^-?\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : raw)
      }}
      onBlur={(e) => onBlur(id, e.currentTarget.value)}
      onFocus={(e) => onFocus(id, e.currentTarget.value)}
    />
  )
}

/** A write-only secret: "set" or "not set", and a new value only when the admin chooses to replace it. */
const SecretWidget = (props: WidgetProps<unknown, RJSFSchema, FormContext>) => {
  const { id, value, onChange, label, required, disabled, readonly, rawErrors, registry } = props
  const key = id.replace(/^root_/, "")
  const isSet = registry.formContext?.secretsSet.has(key) ?? false
  const [replacing, setReplacing] = useState(false)
  const error = rawErrors && rawErrors.length > 0 ? rawErrors.join("\n") : undefined
  if (isSet && !replacing)
    return (
      <Stack gap={4}>
        <Text component="label" htmlFor={`${id}-replace`} size="sm" fw={500}>
          {label}
        </Text>
        <Group gap="sm">
          <Badge color="green" variant="dot" data-testid={`secret-${key}-state`}>
            Set
          </Badge>
          <Text size="sm" c="dimmed">
            The value is stored encrypted and never shown.
          </Text>
          <Button
            id={`${id}-replace`}
            size="xs"
            variant="default"
            disabled={disabled || readonly}
            onClick={() => setReplacing(true)}
          >
            Replace
          </Button>
        </Group>
        {error && (
          <Text size="sm" c="red">
            {error}
          </Text>
        )}
      </Stack>
    )
  return (
    <Stack gap={4}>
      <PasswordInput
        id={id}
        name={id}
        label={label}
        required={required && !isSet}
        disabled={disabled || readonly}
        autoComplete="new-password"
        description={isSet ? "A new value replaces the stored one; leave empty to keep it." : "Not set."}
        value={typeof value === "string" ? value : ""}
        error={error}
        onChange={(e) => onChange(e.currentTarget.value === "" ? undefined : e.currentTarget.value)}
      />
      {isSet && (
        <Group>
          <Button
            size="xs"
            variant="subtle"
            onClick={() => {
              onChange(undefined)
              setReplacing(false)
            }}
          >
            Keep the stored value
          </Button>
        </Group>
      )}
    </Stack>
  )
}

/** The uiSchema: readable titles, text inputs for numbers, the secret widget for write-only fields. */
const uiSchemaOf = (schema: JsonObject): UiSchema => {
  const ui: UiSchema = {}
  const walk = (node: JsonObject, into: UiSchema) => {
    const props = isObject(node["properties"]) ? node["properties"] : {}
    for (const [key, child] of Object.entries(props)) {
      if (!isObject(child)) continue
      const entry: UiSchema = {}
      if (typeof child["title"] !== "string") entry["ui:title"] = humanize(key)
      if (child["writeOnly"] === true) entry["ui:widget"] = "secret"
      else if ((child["type"] === "integer" || child["type"] === "number") && !Array.isArray(child["enum"]))
        entry["ui:widget"] = "numberText"
      if (child["type"] === "object") walk(child, entry)
      into[key] = entry
    }
  }
  walk(schema, ui)
  ui["ui:submitButtonOptions"] = { submitText: "Save configuration" }
  return ui
}

/** `body.a.b` and `body.list.0` onto an rjsf error schema; anything else onto the root. */
export const errorSchemaOf = (problem: ApiError["problem"]): ErrorSchema => {
  const root: JsonObject = {}
  for (const e of problem.errors ?? []) {
    const path = e.path
      .replace(/^body\.?/, "")
      .split(".")
      .filter((s) => s.length > 0)
    let node = root
    for (const segment of path) {
      if (!isObject(node[segment])) node[segment] = {}
      node = node[segment] as JsonObject
    }
    const errors = Array.isArray(node["__errors"]) ? (node["__errors"] as Array<string>) : []
    node["__errors"] = [...errors, e.message]
  }
  return root as ErrorSchema
}

const widgets = { numberText: NumberTextWidget, secret: SecretWidget }

export const PluginConfigForm = ({
  pluginId,
  schema,
  value
}: {
  readonly pluginId: string
  readonly schema: unknown
  readonly value: unknown
}) => {
  const queryClient = useQueryClient()
  const rootSchema = useMemo(() => (isObject(schema) ? schema : { type: "object" }) as RJSFSchema, [schema])
  const secretKeys = useMemo(
    () =>
      Object.entries(isObject(rootSchema.properties) ? rootSchema.properties : {})
        .filter(([, s]) => isObject(s) && s["writeOnly"] === true)
        .map(([k]) => k),
    [rootSchema]
  )
  const stored = useMemo(() => (isObject(value) ? value : {}), [value])
  const secretsSet = useMemo(
    () => new Set(secretKeys.filter((k) => stored[k] !== undefined && stored[k] !== null)),
    [secretKeys, stored]
  )
  // The mask never reaches an input: secret fields start empty.
  const initial = useMemo(
    () => Object.fromEntries(Object.entries(stored).filter(([k]) => !secretKeys.includes(k))),
    [stored, secretKeys]
  )
  const [formData, setFormData] = useState<JsonObject>(initial)
  useEffect(() => setFormData(initial), [initial])
  const [problem, setProblem] = useState<unknown>()
  const [extraErrors, setExtraErrors] = useState<ErrorSchema | undefined>()
  const [busy, setBusy] = useState(false)
  const uiSchema = useMemo(() => uiSchemaOf(rootSchema as JsonObject), [rootSchema])

  const submit = async (data: unknown) => {
    setBusy(true)
    setProblem(undefined)
    setExtraErrors(undefined)
    const body = Object.fromEntries(
      Object.entries(isObject(data) ? data : {}).filter(
        ([k, v]) => !(secretKeys.includes(k) && (v === undefined || v === ""))
      )
    )
    try {
      await fetchJson(`/api/admin/plugins/${encodeURIComponent(pluginId)}/config`, {
        method: "PUT",
        body: JSON.stringify(body)
      })
      notifyDone("Configuration saved")
      await queryClient.invalidateQueries({ queryKey: ["plugins"] })
    } catch (e) {
      setProblem(e)
      if (e instanceof ApiError) setExtraErrors(errorSchemaOf(e.problem))
    } finally {
      setBusy(false)
    }
  }

  return (
    <Stack>
      <ErrorAlert error={problem} title="The configuration was not saved" />
      <Form
        // A new stored config (after a save) starts the form afresh: secrets show "set" again.
        key={JSON.stringify(stored)}
        schema={rootSchema}
        uiSchema={uiSchema}
        formData={formData}
        formContext={{ secretsSet }}
        validator={validator}
        widgets={widgets}
        noValidate
        noHtml5Validate
        showErrorList={false}
        extraErrors={extraErrors}
        disabled={busy}
        idPrefix="root"
        onChange={(e) => setFormData(isObject(e.formData) ? e.formData : {})}
        onSubmit={(e) => submit(e.formData)}
      />
    </Stack>
  )
}

export default PluginConfigForm
