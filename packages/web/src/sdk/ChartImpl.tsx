/** The chart itself: loaded only when a plugin renders a `Chart` (recharts stays out of the first load). */
import "@mantine/charts/styles.css"
import { BarChart, LineChart } from "@mantine/charts"
import type { ChartProps } from "./Chart.tsx"

const ChartImpl = ({ type, data, dataKey, series, height = 260, unit, label }: ChartProps) => {
  const common = { h: height, data: [...data], dataKey, series: [...series], unit, withLegend: series.length > 1 }
  return (
    <div role="img" aria-label={label}>
      {type === "line" ? <LineChart {...common} curveType="monotone" /> : <BarChart {...common} />}
    </div>
  )
}

export default ChartImpl
