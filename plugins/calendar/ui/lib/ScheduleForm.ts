/**
 * The schedule form's state and the request body it becomes (and back):
 * plain text fields in the form, the API's shape on the wire. Lists are
 * typed comma-separated; an empty optional field is left out so the
 * server's default applies.
 */
export const weekdays = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"] as const
export type Weekday = (typeof weekdays)[number]
export type Frequency = "ONCE" | "DAILY" | "WEEKLY" | "MONTHLY"
export type AutoStop = "hibernate" | "delete" | "none"

export interface FormState {
  readonly name: string
  readonly description: string
  readonly templateId: string
  readonly timeZone: string
  /** `YYYY-MM-DDTHH:MM`, wall-clock time in `timeZone` (what an `<input type="datetime-local">` gives). */
  readonly start: string
  readonly durationMinutes: number
  readonly frequency: Frequency
  readonly interval: number
  readonly byDay: ReadonlyArray<Weekday>
  /** Comma-separated days of the month, negative from the end. */
  readonly byMonthDay: string
  readonly end: "never" | "count" | "until"
  readonly count: number
  /** `YYYY-MM-DD` */
  readonly until: string
  /** Comma-separated `YYYY-MM-DD` dates without an occurrence. */
  readonly exceptions: string
  readonly preWarmMinutes: number
  readonly autoStop: AutoStop
  readonly enabled: boolean
}

export interface ScheduleBody {
  readonly name: string
  readonly description: string
  readonly templateId: string
  readonly timeZone: string
  readonly start: string
  readonly durationMinutes: number
  readonly recurrence: {
    readonly freq: "DAILY" | "WEEKLY" | "MONTHLY"
    readonly interval: number
    readonly byDay?: ReadonlyArray<Weekday>
    readonly byMonthDay?: ReadonlyArray<number>
    readonly count?: number
    readonly until?: string
  } | null
  readonly exceptions: ReadonlyArray<string>
  readonly preWarmMinutes: number
  readonly autoStop: AutoStop
  readonly enabled: boolean
}

export const empty = (timeZone: string): FormState => ({
  name: "",
  description: "",
  templateId: "",
  timeZone,
  start: "",
  durationMinutes: 60,
  frequency: "ONCE",
  interval: 1,
  byDay: [],
  byMonthDay: "",
  end: "never",
  count: 10,
  until: "",
  exceptions: "",
  preWarmMinutes: 0,
  autoStop: "hibernate",
  enabled: true
})

const list = (s: string) =>
  s
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x.length > 0)

/** The request body for POST /schedules or PATCH /schedules/:id (the server checks everything again). */
export const toBody = (f: FormState): ScheduleBody => ({
  name: f.name.trim(),
  description: f.description,
  templateId: f.templateId.trim(),
  timeZone: f.timeZone.trim(),
  start: f.start.slice(0, 16),
  durationMinutes: f.durationMinutes,
  recurrence:
    f.frequency === "ONCE"
      ? null
      : {
          freq: f.frequency,
          interval: f.interval,
          ...(f.frequency === "WEEKLY" && f.byDay.length > 0 ? { byDay: [...f.byDay] } : {}),
          ...(f.frequency === "MONTHLY" && list(f.byMonthDay).length > 0
            ? { byMonthDay: list(f.byMonthDay).map(Number) }
            : {}),
          ...(f.end === "count" ? { count: f.count } : {}),
          ...(f.end === "until" && f.until ? { until: f.until } : {})
        },
  exceptions: f.frequency === "ONCE" ? [] : list(f.exceptions),
  preWarmMinutes: f.preWarmMinutes,
  autoStop: f.autoStop,
  enabled: f.enabled
})

/** The form for an existing schedule (as GET /schedules answers it). */
export const fromSchedule = (s: ScheduleBody): FormState => {
  const r = s.recurrence
  return {
    ...empty(s.timeZone),
    name: s.name,
    description: s.description,
    templateId: s.templateId,
    start: s.start.slice(0, 16),
    durationMinutes: s.durationMinutes,
    frequency: r ? r.freq : "ONCE",
    interval: r?.interval ?? 1,
    byDay: r?.byDay ?? [],
    byMonthDay: (r?.byMonthDay ?? []).join(", "),
    end: r?.count !== undefined ? "count" : r?.until !== undefined ? "until" : "never",
    count: r?.count ?? 10,
    until: r?.until ?? "",
    exceptions: s.exceptions.join(", "),
    preWarmMinutes: s.preWarmMinutes,
    autoStop: s.autoStop,
    enabled: s.enabled
  }
}

const dayNames: Record<Weekday, string> = {
  MO: "Mon",
  TU: "Tue",
  WE: "Wed",
  TH: "Thu",
  FR: "Fri",
  SA: "Sat",
  SU: "Sun"
}

/** "Weekly on Mon, Thu, 10 times" and the like, for the list. */
export const describeRecurrence = (s: ScheduleBody): string => {
  const r = s.recurrence
  if (!r) return "Once"
  const every =
    r.interval === 1
      ? { DAILY: "Daily", WEEKLY: "Weekly", MONTHLY: "Monthly" }[r.freq]
      : `Every ${r.interval} ${{ DAILY: "days", WEEKLY: "weeks", MONTHLY: "months" }[r.freq]}`
  const on =
    r.freq === "WEEKLY" && r.byDay
      ? ` on ${r.byDay.map((d) => dayNames[d]).join(", ")}`
      : r.freq === "MONTHLY" && r.byMonthDay
        ? ` on day ${r.byMonthDay.join(", ")}`
        : ""
  const end = r.count !== undefined ? `, ${r.count} times` : r.until !== undefined ? `, until ${r.until}` : ""
  return `${every}${on}${end}`
}
