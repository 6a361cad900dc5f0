/** Sessions' domain as Schemas. */
import { Schema } from "effect"
import * as Text from "../Text.ts"

export const SessionState = Schema.Literal("pending", "running", "hibernated", "terminated", "failed")
export type SessionState = typeof SessionState.Type
export const DesiredState = Schema.Literal("running", "hibernated", "terminated")
export type DesiredState = typeof DesiredState.Type
export const Access = Schema.Literal("owner", "admin", "control", "view")
export type Access = typeof Access.Type

export class Session extends Schema.Class<Session>("Session")({
  id: Schema.String,
  userId: Schema.String,
  templateId: Schema.String,
  templateName: Schema.String,
  state: SessionState,
  desired: DesiredState,
  reason: Schema.NullOr(Schema.String),
  /**
   * Where it runs: `simulated` means no real desktop runs (state changes are timers, the screen a stand-in);
   * `local` a real Xvnc desktop on the server's machine; `kubernetes` a workload in the cluster.
   */
  runtime: Schema.Literal("simulated", "local", "kubernetes"),
  cpu: Schema.Number,
  memory: Schema.Number,
  persistentHome: Schema.Boolean,
  lastActivityAt: Schema.Date,
  createdAt: Schema.Date,
  updatedAt: Schema.Date,
  /** How the caller may use it. */
  access: Access
}) {}

/** The largest value of a PostgreSQL `integer` column. */
const Int32 = Schema.Int.pipe(Schema.positive(), Schema.lessThanOrEqualTo(2_147_483_647))

export const CreateSession = Schema.Struct({
  templateId: Text.Id,
  cpu: Schema.optional(Int32),
  memory: Schema.optional(Int32),
  persistentHome: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  /** Why the session is needed, for policies that ask for one (compliance); kept in the hook's input only. */
  reason: Schema.optional(Text.Line)
})
export type CreateSession = typeof CreateSession.Type

export const ShareInput = Schema.Struct({
  userId: Text.Id,
  access: Schema.Literal("view", "control")
})

export class SessionShare extends Schema.Class<SessionShare>("SessionShare")({
  userId: Schema.String,
  username: Schema.String,
  access: Schema.Literal("view", "control"),
  createdAt: Schema.Date
}) {}
