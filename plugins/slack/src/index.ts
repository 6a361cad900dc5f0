/**
 * Slack: Block Kit messages through an incoming webhook, or through
 * `chat.postMessage` with a bot token and a channel.
 */
import { HttpUrl } from "@streamspace/core"
import { PluginConfig } from "@streamspace/kernel"
import { defineNotifier, HttpDelivery, integrationConfig, type Notice } from "@streamspace/notify"
import { Effect, Schema } from "effect"

export const SlackIntegration = integrationConfig({
  /** Incoming webhook URL (a secret: anyone holding it can post). */
  webhookUrl: Schema.optional(PluginConfig.secret(HttpUrl)),
  /** Bot token (`xoxb-…`) with `chat:write`; used with `channel` when there is no webhook URL. */
  botToken: Schema.optional(
    PluginConfig.secret(Schema.String.pipe(Schema.pattern(/^xox[a-z]-/, { message: () => "a Slack token (xoxb-…)" })))
  ),
  channel: Schema.optional(Schema.String.pipe(Schema.minLength(1))),
  /** Web API base URL (change only for a proxy or a test receiver). */
  apiUrl: Schema.optionalWith(HttpUrl, { default: () => "https://slack.com/api" })
}).pipe(
  Schema.filter((c) =>
    c.webhookUrl !== undefined || (c.botToken !== undefined && c.channel !== undefined)
      ? undefined
      : {
          path: [c.botToken === undefined ? "webhookUrl" : "channel"],
          message: "set webhookUrl, or botToken and channel"
        }
  )
)
export type SlackIntegration = typeof SlackIntegration.Type

export const SlackMessage = Schema.Struct({
  text: Schema.String,
  blocks: Schema.Array(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
})

const icon: Record<Notice.Severity, string> = {
  info: ":information_source:",
  warning: ":warning:",
  error: ":x:",
  critical: ":rotating_light:"
}

/** Slack's mrkdwn treats &, < and > as control characters. */
const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

export const render = (notice: Notice.Notice): typeof SlackMessage.Type => ({
  text: `${notice.title}: ${notice.text}`,
  blocks: [
    { type: "header", text: { type: "plain_text", text: notice.title.slice(0, 150), emoji: true } },
    { type: "section", text: { type: "mrkdwn", text: `${icon[notice.severity]} ${escape(notice.text)}` } },
    ...(notice.fields.length > 0
      ? [
          {
            type: "section",
            fields: notice.fields
              .slice(0, 10)
              .map((f) => ({ type: "mrkdwn", text: `*${escape(f.label)}*\n${escape(f.value)}` }))
          }
        ]
      : []),
    {
      type: "context",
      elements: [
        {
          type: "mrkdwn",
          text: `StreamSpace · \`${notice.type}\` · <!date^${Math.floor(notice.occurredAt.getTime() / 1000)}^{date_short_pretty} {time}|${notice.occurredAt.toISOString()}>`
        }
      ]
    }
  ]
})

/** Web API errors worth retrying; every other `ok: false` (invalid_auth, channel_not_found…) is permanent. */
const transient = new Set(["ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"])

export default defineNotifier({
  id: "slack",
  name: "Slack",
  version: "1.0.0",
  description: "Slack notifications: Block Kit through an incoming webhook or chat.postMessage",
  integration: SlackIntegration,
  message: SlackMessage,
  render: (notice) => Effect.succeed([{ payload: render(notice) }]),
  send: (message, config) =>
    config.webhookUrl !== undefined
      ? HttpDelivery.postJson(config.webhookUrl, message)
      : HttpDelivery.postJson(
          `${config.apiUrl.replace(/\/$/, "")}/chat.postMessage`,
          { channel: config.channel, ...message },
          {
            headers: { authorization: `Bearer ${config.botToken}` },
            check: (body) => {
              const answer = body as { ok?: boolean; error?: string } | undefined
              return answer?.ok === true
                ? undefined
                : {
                    error: `Slack API: ${answer?.error ?? "no ok in the answer"}`,
                    retry: transient.has(answer?.error ?? "")
                  }
            }
          }
        )
})
