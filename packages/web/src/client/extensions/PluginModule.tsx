/**
 * Renders a plugin's page or widget: `import()`s its module (same-origin,
 * hashed URL; React and the SDK come from the console through the import
 * map), inside `<PluginContext>` and an error boundary, so a module that
 * fails to load or throws while rendering shows a clear error in its own
 * frame and the rest of the console keeps working.
 */
import { Alert, Button, Center, Code, Loader, Stack, Text } from "@mantine/core"
import { IconAlertTriangle } from "@tabler/icons-react"
import { Component, type ComponentType, type ErrorInfo, type ReactNode, useEffect, useState } from "react"
import { PluginContext } from "../../sdk/PluginContext.tsx"

type Loaded =
  | { readonly state: "loading" }
  | { readonly state: "ready"; readonly component: ComponentType }
  | {
      readonly state: "failed"
      readonly error: string
    }

/** Modules already imported, by URL (the browser caches them too; this skips the loading frame). */
const loaded = new Map<string, ComponentType>()

const importComponent = async (url: string): Promise<ComponentType> => {
  const known = loaded.get(url)
  if (known) return known
  const mod = (await import(/* webpackIgnore: true */ url)) as { readonly default?: unknown }
  if (typeof mod.default !== "function" && (typeof mod.default !== "object" || mod.default === null))
    throw new Error("the module has no default export (the page or widget component)")
  const component = mod.default as ComponentType
  loaded.set(url, component)
  return component
}

const Failure = ({
  what,
  error,
  onRetry
}: {
  readonly what: string
  readonly error: string
  readonly onRetry?: () => void
}) => (
  <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} title={`${what} could not be shown`}>
    <Stack gap="xs" align="flex-start">
      <Text size="sm">
        <Code>{error}</Code>
      </Text>
      {onRetry && (
        <Button size="xs" variant="default" onClick={onRetry}>
          Try again
        </Button>
      )}
    </Stack>
  </Alert>
)

interface BoundaryProps {
  readonly what: string
  readonly children: ReactNode
}

class PluginErrorBoundary extends Component<BoundaryProps, { readonly error: string | undefined }> {
  override state: { readonly error: string | undefined } = { error: undefined }
  static getDerivedStateFromError(error: unknown) {
    return { error: error instanceof Error ? error.message : String(error) }
  }
  override componentDidCatch(error: unknown, info: ErrorInfo) {
    console.error(`${this.props.what} failed`, error, info.componentStack)
  }
  override render() {
    if (this.state.error !== undefined)
      return (
        <Failure what={this.props.what} error={this.state.error} onRetry={() => this.setState({ error: undefined })} />
      )
    return this.props.children
  }
}

export interface PluginModuleProps {
  readonly plugin: string
  /** The module's URL; null when the server could not build or serve it. */
  readonly module: string | null
  /** For messages: "Plugin page Reports" or "Widget Greetings". */
  readonly what: string
}

export const PluginModule = ({ plugin, module, what }: PluginModuleProps) => {
  const [attempt, setAttempt] = useState(0)
  const [view, setView] = useState<Loaded>(() => {
    const known = module ? loaded.get(module) : undefined
    return known ? { state: "ready", component: known } : { state: "loading" }
  })
  useEffect(() => {
    if (!module) return
    let live = true
    const known = loaded.get(module)
    if (known) {
      setView({ state: "ready", component: known })
      return
    }
    setView({ state: "loading" })
    importComponent(module).then(
      (component) => live && setView({ state: "ready", component }),
      (e: unknown) => live && setView({ state: "failed", error: e instanceof Error ? e.message : String(e) })
    )
    return () => {
      live = false
    }
  }, [module, attempt])

  if (!module)
    return <Failure what={what} error={`plugin ${plugin} has no built module for it (see the server's log)`} />
  if (view.state === "loading")
    return (
      <Center p="md">
        <Loader size="sm" aria-label={`Loading ${what}`} />
      </Center>
    )
  if (view.state === "failed")
    return <Failure what={what} error={view.error} onRetry={() => setAttempt((n) => n + 1)} />
  const Loaded = view.component
  return (
    <PluginErrorBoundary what={what}>
      <PluginContext plugin={plugin}>
        <Loaded />
      </PluginContext>
    </PluginErrorBoundary>
  )
}
