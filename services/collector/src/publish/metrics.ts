import { Counter, type Registry } from 'prom-client';

/** The publisher's metrics: what left for which topic, what was dead-lettered, what could not be sent. */
export interface PublisherMetrics {
  published: Counter<'topic' | 'kind'>;
  deadLetters: Counter<'stage'>;
  publishFailures: Counter<'topic'>;
}

export function createPublisherMetrics(registry: Registry): PublisherMetrics {
  return {
    published: new Counter({
      name: 'killtrace_collector_published_total',
      help: 'Signals produced to Kafka, by topic and signal kind (pod, event, kubelet, app_log).',
      labelNames: ['topic', 'kind'],
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: 'killtrace_collector_dead_letters_total',
      help: 'Inputs that could not become a valid signal and went to the dead-letter topic, by stage.',
      labelNames: ['stage'],
      registers: [registry],
    }),
    publishFailures: new Counter({
      name: 'killtrace_collector_publish_failures_total',
      help: 'Batches that could not be produced after retries.',
      labelNames: ['topic'],
      registers: [registry],
    }),
  };
}
