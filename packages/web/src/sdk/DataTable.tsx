/**
 * A simple table for plugin pages: columns by key with optional renderers,
 * an empty state, and pages of `pageSize` rows (client-side: for lists the
 * server paginates, render one page of rows and page with its cursor).
 */
import { Group, Pagination, ScrollArea, Table, Text } from "@mantine/core"
import { type ReactNode, useEffect, useState } from "react"

export interface DataTableColumn<Row> {
  /** A key of the row, or any id when `render` computes the cell. */
  readonly key: string
  readonly title: string
  readonly render?: (row: Row) => ReactNode
  readonly align?: "left" | "right" | "center"
}

export interface DataTableProps<Row> {
  /** Names the table for assistive technology (rendered as its caption). */
  readonly caption: string
  readonly columns: ReadonlyArray<DataTableColumn<Row>>
  readonly rows: ReadonlyArray<Row>
  /** Rows per page (default 10). */
  readonly pageSize?: number
  /** A stable key per row (default: its index). */
  readonly rowKey?: (row: Row, index: number) => string
  /** Shown when there are no rows. */
  readonly empty?: ReactNode
}

const cellOf = <Row,>(row: Row, column: DataTableColumn<Row>): ReactNode => {
  if (column.render) return column.render(row)
  const value = (row as Record<string, unknown>)[column.key]
  return value === null || value === undefined ? "—" : String(value)
}

export const DataTable = <Row,>({
  caption,
  columns,
  rows,
  pageSize = 10,
  rowKey,
  empty = "Nothing to show yet."
}: DataTableProps<Row>) => {
  const pages = Math.max(1, Math.ceil(rows.length / pageSize))
  const [page, setPage] = useState(1)
  useEffect(() => {
    if (page > pages) setPage(pages)
  }, [page, pages])
  const visible = rows.slice((page - 1) * pageSize, page * pageSize)
  return (
    <div>
      <ScrollArea>
        <Table striped highlightOnHover captionSide="top">
          <Table.Caption>{caption}</Table.Caption>
          <Table.Thead>
            <Table.Tr>
              {columns.map((c) => (
                <Table.Th key={c.key} style={{ textAlign: c.align ?? "left" }}>
                  {c.title}
                </Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {visible.length === 0 ? (
              <Table.Tr>
                <Table.Td colSpan={columns.length}>
                  <Text c="dimmed" ta="center" py="md">
                    {empty}
                  </Text>
                </Table.Td>
              </Table.Tr>
            ) : (
              visible.map((row, i) => (
                <Table.Tr key={rowKey ? rowKey(row, (page - 1) * pageSize + i) : (page - 1) * pageSize + i}>
                  {columns.map((c) => (
                    <Table.Td key={c.key} style={{ textAlign: c.align ?? "left" }}>
                      {cellOf(row, c)}
                    </Table.Td>
                  ))}
                </Table.Tr>
              ))
            )}
          </Table.Tbody>
        </Table>
      </ScrollArea>
      {pages > 1 && (
        <Group justify="space-between" mt="sm">
          <Text size="sm" c="dimmed">
            {rows.length} rows
          </Text>
          <Pagination
            total={pages}
            value={page}
            onChange={setPage}
            size="sm"
            getControlProps={(control) => ({
              "aria-label": control === "previous" ? "Previous page" : control === "next" ? "Next page" : control
            })}
            getItemProps={(n) => ({ "aria-label": `Page ${n}` })}
          />
        </Group>
      )}
    </div>
  )
}
