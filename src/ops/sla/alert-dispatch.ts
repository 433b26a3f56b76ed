/**
 * Where alerts go: the log, the event bus (`sla-alert`, which the shell shows) and, with
 * --alert-webhook, the webhook queue. Dispatching is synchronous and cheap; the webhook sends
 * in the background.
 */
import type { EventBus, Logger } from "../../core/index.js";
import type { SlaAlert, WebhookSink } from "./alert-webhook.js";

export class AlertDispatch {
  readonly #events: EventBus;
  readonly #logger: Logger;
  readonly #webhook: WebhookSink | undefined;

  constructor(options: { events: EventBus; logger: Logger; webhook: WebhookSink | undefined }) {
    this.#events = options.events;
    this.#logger = options.logger;
    this.#webhook = options.webhook;
  }

  send(alert: SlaAlert): void {
    const fields = { alert: alert.alert, severity: alert.severity, state: alert.state, ...alert.details };
    if (alert.state === "resolved") this.#logger.info(`SLA alert resolved: ${alert.summary}`, fields);
    else if (alert.severity === "page") this.#logger.error(`SLA alert: ${alert.summary}`, fields);
    else this.#logger.warn(`SLA alert: ${alert.summary}`, fields);
    this.#events.emit("sla-alert", alert);
    this.#webhook?.enqueue(alert);
  }

  close(): void {
    this.#webhook?.close();
  }
}
