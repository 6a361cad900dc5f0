/** Discord: webhook messages with one embed, coloured by severity. */
import { HttpUrl } from "@streamspace/core"
import { PluginConfig } from "@streamspace/kernel"
import { defineNotifier, HttpDelivery, integrationConfig, type Notice } from "@streamspace/notify"
import { Effect, Schema } from "effect"

export const DiscordIntegration = integrationConfig({
  /** The channel webhook URL (a secret: anyone holding it can post). */
  webhookUrl: PluginConfig.secret(HttpUrl),
  /** Overrides the webhook's display name. */
  username: Schema.optional(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(80)))
})

const Embed = Schema.Struct({
  title: Schema.String,
  description: Schema.String,
  color: Schema.Number,
  timestamp: Schema.String,
  fields: Schema.Array(Schema.Struct({ name: Schema.String, value: Schema.String, inline: Schema.Boolean })),
  footer: Schema.Struct({ text: Schema.String })
})
export const DiscordMessage = Schema.Struct({
  embeds: Schema.Array(Embed),
  allowed_mentions: Schema.Struct({ parse: Schema.Array(Schema.String) })
})

/** Embed colours (decimal RGB) by severity: blue, amber, orange, red. */
export const colours: Record<Notice.Severity, number> = {
  info: 0x3498db,
  warning: 0xf1c40f,
  error: 0xe67e22,
  critical: 0xe74c3c
}

// Discord's documented embed limits.
export const render = (notice: Notice.Notice): typeof DiscordMessage.Type => ({
  embeds: [
    {
      title: notice.title.slice(0, 256),
      description: notice.text.slice(0, 4096),
      color: colours[notice.severity],
      timestamp: notice.occurredAt.toISOString(),
      fields: notice.fields
        .slice(0, 25)
        .map((f) => ({ name: f.label.slice(0, 256), value: f.value.slice(0, 1024) || "—", inline: true })),
      footer: { text: `StreamSpace · ${notice.type}` }
    }
  ],
  // Event text may contain user-chosen names: never let it ping anyone.
  allowed_mentions: { parse: [] }
})

export default defineNotifier({
  id: "discord",
  name: "Discord",
  version: "1.0.0",
  description: "Discord notifications: webhook embeds coloured by severity",
  integration: DiscordIntegration,
  message: DiscordMessage,
  render: (notice) => Effect.succeed([{ payload: render(notice) }]),
  send: (message, config) =>
    HttpDelivery.postJson(config.webhookUrl, config.username ? { ...message, username: config.username } : message)
})
