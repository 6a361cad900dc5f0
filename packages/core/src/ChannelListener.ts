/**
 * Notices between API replicas: on PostgreSQL a replica sends one with
 * `SELECT pg_notify(channel, payload)` (inside its transaction, so it is
 * delivered only if the change commits) and every replica, itself included,
 * receives it here. The server provides it from the database layer's
 * LISTEN connection; on embedded PGlite there is one process and no
 * listener (`Effect.serviceOption` finds none).
 */
import type { SqlError } from "@effect/sql/SqlError"
import { Context, type Stream } from "effect"

export class ChannelListener extends Context.Tag("@streamspace/core/ChannelListener")<
  ChannelListener,
  {
    /** The payloads of the notices sent on `channel`, over a connection of its own; fails when it drops. */
    readonly listen: (channel: string) => Stream.Stream<string, SqlError>
  }
>() {}
