/**
 * @streamspace/notify — what the notification plugins (Slack, Teams,
 * Discord, PagerDuty, SMTP email) share: notices made from events, event
 * selection and filters, HTTP delivery outcomes, text templates and
 * `defineNotifier`, which turns a provider's renderer and sender into a
 * plugin with durable, tracked, retried delivery, a test endpoint and the
 * `notify` method other plugins call (`NotifyMethod`).
 */
export * as HttpDelivery from "./HttpDelivery.ts"
export * as Notice from "./Notice.ts"
export * from "./Notifier.ts"
export * as NotifyMethod from "./NotifyMethod.ts"
export * as Selection from "./Selection.ts"
export * as TextTemplate from "./TextTemplate.ts"
