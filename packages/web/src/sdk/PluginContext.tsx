/**
 * Which plugin a UI module belongs to. The console wraps every plugin page
 * and widget in `<PluginContext plugin="hello">`; the SDK's hooks read it,
 * so a module never names its own id and cannot act as another plugin.
 */
import { createContext, type ReactNode, useContext } from "react"

const Context = createContext<string | undefined>(undefined)

export const PluginContext = ({ plugin, children }: { readonly plugin: string; readonly children: ReactNode }) => (
  <Context.Provider value={plugin}>{children}</Context.Provider>
)

/** The id of the plugin whose module is rendering; throws outside a plugin page or widget. */
export const usePlugin = (): string => {
  const plugin = useContext(Context)
  if (plugin === undefined) throw new Error("usePlugin: not inside a plugin page or widget (<PluginContext>)")
  return plugin
}
