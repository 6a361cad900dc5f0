/**
 * `Chart`: a bar or line chart (Mantine Charts over recharts), loaded on
 * first use so neither the console's first load nor a plugin module that
 * does not draw charts pays for it.
 */
import { Center, Loader } from "@mantine/core"
import { lazy, Suspense } from "react"

export interface ChartSeries {
  /** The data key of the values. */
  readonly name: string
  readonly label?: string
  /** A Mantine colour, e.g. "blue.6". */
  readonly color: string
}

export interface ChartProps {
  readonly type: "bar" | "line"
  /** Describes the chart for assistive technology (e.g. "Sessions per day, last week"). */
  readonly label: string
  readonly data: ReadonlyArray<Record<string, string | number>>
  /** The key of the x-axis values. */
  readonly dataKey: string
  readonly series: ReadonlyArray<ChartSeries>
  readonly height?: number
  readonly unit?: string
}

const ChartImpl = lazy(() => import("./ChartImpl.tsx"))

export const Chart = (props: ChartProps) => (
  <Suspense
    fallback={
      <Center h={props.height ?? 260}>
        <Loader size="sm" aria-label={`Loading chart: ${props.label}`} />
      </Center>
    }
  >
    <ChartImpl {...props} />
  </Suspense>
)
