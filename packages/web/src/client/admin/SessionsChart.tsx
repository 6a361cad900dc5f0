/** Sessions by state as a bar chart (@mantine/charts over recharts: loaded only with the dashboard). */
import "@mantine/charts/styles.css"
import { BarChart } from "@mantine/charts"

const colors: Record<string, string> = {
  running: "green.6",
  pending: "yellow.6",
  hibernated: "blue.6",
  terminated: "gray.6",
  failed: "red.6"
}

export const SessionsChart = ({ counts }: { readonly counts: ReadonlyArray<{ state: string; count: number }> }) => (
  <BarChart
    h={220}
    data={counts.map((c) => ({ state: c.state, sessions: c.count, color: colors[c.state] ?? "gray.6" }))}
    dataKey="state"
    series={[{ name: "sessions", label: "Sessions" }]}
    getBarColor={(_, series) => (series.color as string | undefined) ?? "blue.6"}
    barProps={{ isAnimationActive: false }}
    // The table under the chart carries the numbers for assistive technology; the chart stays out of the tab order.
    barChartProps={{ accessibilityLayer: false }}
    withTooltip
    tickLine="y"
    aria-hidden
  />
)

export default SessionsChart
