/**
 * What a plugin's UI module may import as `@streamspace/web/sdk`: the
 * console shares this one instance with every plugin module (import map),
 * so its hooks see the console's login, router and theme.
 *
 * - `usePluginApi()`: requests to the plugin's own routes (`/api/plugins/<id>/…`);
 * - `useNavigate()`, `useCan(permission)`, `notify({ title, message, color })`;
 * - Mantine components (import them from here, never from `@mantine/core`,
 *   which would bundle a second copy without the console's theme);
 * - `DataTable` (paginated) and `Chart` (bar/line, loaded on first use).
 *
 * React, `react/jsx-runtime`, `react-dom` and `@tanstack/react-query` are
 * shared too: import them as usual.
 */
import { useSession } from "../client/auth/Session.tsx"

export { PluginContext, usePlugin } from "./PluginContext.tsx"
export { makePluginApi, type PluginApi, usePluginApi } from "./PluginApi.ts"
export { pluginUrl } from "./PluginPaths.ts"
export { type Notice, notify } from "./Notify.ts"
export { DataTable, type DataTableColumn, type DataTableProps } from "./DataTable.tsx"
export { Chart, type ChartProps, type ChartSeries } from "./Chart.tsx"
export { ApiError, fieldErrors, type Problem } from "../client/api/Problem.ts"
export { Link, useLocation, useNavigate } from "../client/Router.tsx"

/** Whether the logged-in user holds `permission` (the server checks every request anyway). */
export const useCan = (permission: string): boolean => useSession().can(permission)

export {
  ActionIcon,
  Alert,
  Anchor,
  Badge,
  Box,
  Button,
  Card,
  Center,
  Checkbox,
  Code,
  Divider,
  Group,
  List,
  Loader,
  Modal,
  NumberInput,
  Pagination,
  Paper,
  Progress,
  ScrollArea,
  Select,
  SimpleGrid,
  Skeleton,
  Stack,
  Switch,
  Table,
  Tabs,
  Text,
  Textarea,
  TextInput,
  ThemeIcon,
  Title,
  Tooltip
} from "@mantine/core"
