/** Microsoft Teams: an Adaptive Card posted through an incoming webhook (Workflows or a classic connector). */
import { HttpUrl } from "@streamspace/core"
import { PluginConfig } from "@streamspace/kernel"
import { defineNotifier, HttpDelivery, integrationConfig, type Notice } from "@streamspace/notify"
import { Effect, Schema } from "effect"

export const TeamsIntegration = integrationConfig({
  /** The incoming webhook URL (a secret: anyone holding it can post). */
  webhookUrl: PluginConfig.secret(HttpUrl)
})

const Json = Schema.Record({ key: Schema.String, value: Schema.Unknown })
export const TeamsMessage = Schema.Struct({
  type: Schema.Literal("message"),
  attachments: Schema.Array(
    Schema.Struct({
      contentType: Schema.Literal("application/vnd.microsoft.card.adaptive"),
      contentUrl: Schema.Null,
      content: Json
    })
  )
})

/** Adaptive Card text colours by severity. */
const colour: Record<Notice.Severity, string> = {
  info: "Accent",
  warning: "Warning",
  error: "Attention",
  critical: "Attention"
}

export const render = (notice: Notice.Notice): typeof TeamsMessage.Type => ({
  type: "message",
  attachments: [
    {
      contentType: "application/vnd.microsoft.card.adaptive",
      contentUrl: null,
      content: {
        $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
        type: "AdaptiveCard",
        version: "1.4",
        msteams: { width: "Full" },
        body: [
          {
            type: "TextBlock",
            text: notice.title,
            size: "Large",
            weight: "Bolder",
            color: colour[notice.severity],
            wrap: true
          },
          { type: "TextBlock", text: notice.text, wrap: true },
          ...(notice.fields.length > 0
            ? [{ type: "FactSet", facts: notice.fields.map((f) => ({ title: f.label, value: f.value })) }]
            : []),
          {
            type: "TextBlock",
            text: `StreamSpace · ${notice.type} · ${notice.occurredAt.toISOString()}`,
            size: "Small",
            isSubtle: true,
            wrap: true
          }
        ]
      }
    }
  ]
})

export default defineNotifier({
  id: "teams",
  name: "Microsoft Teams",
  version: "1.0.0",
  description: "Microsoft Teams notifications: Adaptive Cards through an incoming webhook",
  integration: TeamsIntegration,
  message: TeamsMessage,
  render: (notice) => Effect.succeed([{ payload: render(notice) }]),
  send: (message, config) => HttpDelivery.postJson(config.webhookUrl, message)
})
