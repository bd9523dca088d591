/**
 * `/metrics` in Prometheus' text format (`prom-client`): what the server did (offers, answers,
 * claims won and lost, pushes, connections) and how the process does (event-loop lag, memory,
 * CPU). Counted from the events the rules already emit, so no hot path gains a call of its own.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { OfferEvent } from '../offers/ports.js';
import type { PushOutcome } from './hub.js';

export interface Metrics {
  /** Counts one event of the rules (`offer`, `answer`, `assigned`, ...). */
  observe(e: OfferEvent): void;
  /** Counts a push to `employees` employees, by what became of it. */
  pushed(outcome: PushOutcome, employees: number): void;
  /** Times one push's round trip to the other instances. */
  clusterPush(seconds: number): void;
  /** The text a Prometheus scrape reads, and its content type. */
  render(): Promise<{ text: string; contentType: string }>;
}

/** Round trips measured when Prometheus scrapes: the store's and the cluster's, in seconds. */
export interface Probes {
  store(): Promise<void>;
  /** Absent on a single instance. */
  cluster?: (() => Promise<number>) | undefined;
}

/** A registry of its own per server, so that several servers in one process keep apart. */
export function createMetrics(connections: () => number, probes?: Probes): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const events = new Counter({
    name: 'shiftctl_events_total',
    help: 'Events of the offer rules, by name (offer, answer, assigned, taken, expired, ...).',
    labelNames: ['event'],
    registers: [registry],
  });
  const offers = new Counter({
    name: 'shiftctl_offers_total',
    help: 'Offers made, by whether a device got them live (sent) or they wait (pending).',
    labelNames: ['status'],
    registers: [registry],
  });
  const answers = new Counter({
    name: 'shiftctl_answers_total',
    help: 'Answers recorded, by response.',
    labelNames: ['response'],
    registers: [registry],
  });
  const claims = new Counter({
    name: 'shiftctl_claims_total',
    help: 'Accepts, by whether they won a slot (won), lost it to another (lost) or asked for approval (requested).',
    labelNames: ['result'],
    registers: [registry],
  });
  const pushes = new Counter({
    name: 'shiftctl_pushes_total',
    help: 'Messages pushed to employees, by outcome (sent, no_device, dropped by a fault).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  new Gauge({
    name: 'shiftctl_connections',
    help: 'Open WebSocket connections on this instance.',
    registers: [registry],
    collect() {
      this.set(connections());
    },
  });
  const clusterPush = new Histogram({
    name: 'shiftctl_cluster_push_seconds',
    help: 'Round trip of a push to the other instances (with presence read in the same trip).',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  if (probes) {
    new Gauge({
      name: 'shiftctl_store_probe_seconds',
      help: 'A write to the store, rolled back, timed at scrape (NaN when it fails).',
      registers: [registry],
      async collect() {
        const start = performance.now();
        try {
          await probes.store();
          this.set((performance.now() - start) / 1000);
        } catch {
          this.set(Number.NaN);
        }
      },
    });
  }
  const pingCluster = probes?.cluster;
  if (pingCluster) {
    new Gauge({
      name: 'shiftctl_cluster_ping_seconds',
      help: 'Round trip to Redis (or PostgreSQL, without Redis) between instances, timed at scrape (NaN when it fails).',
      registers: [registry],
      async collect() {
        try {
          this.set((await pingCluster()) / 1000);
        } catch {
          this.set(Number.NaN);
        }
      },
    });
  }
  return {
    clusterPush(seconds) {
      clusterPush.observe(seconds);
    },
    observe(e) {
      events.inc({ event: e.event });
      if (e.event === 'offer') offers.inc({ status: String(e.status) });
      else if (e.event === 'answer') {
        answers.inc({ response: String(e.response) });
        if (e.response === 'accepted') {
          const outcome = e.outcome;
          claims.inc({
            result: outcome === 'assigned' ? 'won' : outcome === 'requested' ? 'requested' : 'lost',
          });
        }
      }
    },
    pushed(outcome, employees) {
      pushes.inc({ outcome }, employees);
    },
    async render() {
      return { text: await registry.metrics(), contentType: registry.contentType };
    },
  };
}
