/** Plays a scenario's steps on the server's clock, through the same rules as the API. */
import { isShiftctlError } from '../errors.js';
import type { Clock } from '../offers/ports.js';
import { failureStreak } from '../offers/retry.js';
import type { OfferService } from '../offers/service.js';
import type { Scenario, ScenarioStep } from '../scenario.js';
import type { ServerFanout } from './fanout.js';
import type { Faults } from './faults.js';
import type { Logger } from './log.js';

export interface ScenarioDeps {
  service: OfferService;
  faults: Faults;
  fanout: Pick<ServerFanout, 'kick'>;
  clock: Clock;
  log: Logger;
  /** Told of each step played (the dashboard's stream). */
  onStep?(step: number, did: string): void;
}

async function play(step: ScenarioStep, deps: ScenarioDeps): Promise<string> {
  if ('create_shift' in step) {
    const created = await deps.service.createShiftRequest(step.create_shift);
    return `created shift ${created.shift.id}`;
  }
  if ('offer' in step) {
    await deps.service.offerShift(step.offer.shift_id, step.offer.emp_ids, {
      ttlSeconds: step.offer.ttl_seconds,
    });
    return `offered shift ${step.offer.shift_id} to ${step.offer.emp_ids.join(', ')}`;
  }
  if ('withdraw' in step) {
    await deps.service.withdraw(step.withdraw);
    return `withdrew shift ${step.withdraw}`;
  }
  if ('kick' in step) {
    return `kicked employee ${step.kick} (${await deps.fanout.kick(step.kick)} connections)`;
  }
  deps.faults.update(step.fault, deps.clock.now());
  return `faults: ${JSON.stringify(deps.faults.view(deps.clock.now()))}`;
}

/** Schedules every step; returns a function that cancels those not yet played. */
export function playScenario(scenario: Scenario, deps: ScenarioDeps): () => void {
  const start = deps.clock.now();
  const { log } = deps;
  deps.log.event({ event: 'scenario', name: scenario.name, steps: scenario.steps.length });
  let stopped = false;
  let cancelRetry: (() => void) | undefined;
  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const cancel = deps.clock.schedule(deps.clock.now() + ms, resolve);
      cancelRetry = () => {
        cancel();
        resolve();
      };
    });

  /**
   * A rule's refusal (a 4xx code) is the scenario's own mistake and is skipped; a failure of
   * the server's (the database full or locked) is tried again.
   */
  async function run(step: ScenarioStep, number: number): Promise<void> {
    const failures = failureStreak(`scenario step ${number}`, {
      warn: (message, fields) => log.warn(message, fields),
      recovered: (fields) => log.event({ event: 'recovered', ...fields }),
    });
    while (!stopped) {
      try {
        const did = await play(step, deps);
        failures.succeeded();
        log.event({ event: 'scenario_step', step: number, did, note: step.note });
        deps.onStep?.(number, did);
        return;
      } catch (err) {
        if (isShiftctlError(err) && err.status < 500) {
          log.warn(`scenario step ${number} failed: ${err.message}`);
          return;
        }
        await wait(failures.failed(err, { step: number }));
      }
    }
  }

  // Steps at the same moment run in file order: each waits for the one before (and its retries).
  let chain = Promise.resolve();
  const cancels = scenario.steps.map((step, index) =>
    deps.clock.schedule(start + step.at * 1000, () => {
      chain = chain.then(() => run(step, index + 1));
    }),
  );
  return () => {
    stopped = true;
    cancelRetry?.();
    for (const cancel of cancels) cancel();
  };
}
