/** Plays a scenario's steps on the server's clock, through the same rules as the API. */
import type { Clock } from '../offers/ports.js';
import type { OfferService } from '../offers/service.js';
import type { Scenario, ScenarioStep } from '../scenario.js';
import type { Faults } from './faults.js';
import type { LocalHub } from './hub.js';
import type { Logger } from './log.js';

export interface ScenarioDeps {
  service: OfferService;
  faults: Faults;
  hub: Pick<LocalHub, 'kick'>;
  clock: Clock;
  log: Logger;
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
    return `kicked employee ${step.kick} (${deps.hub.kick(step.kick)} connections)`;
  }
  deps.faults.update(step.fault, deps.clock.now());
  return `faults: ${JSON.stringify(deps.faults.view(deps.clock.now()))}`;
}

/** Schedules every step; returns a function that cancels those not yet played. */
export function playScenario(scenario: Scenario, deps: ScenarioDeps): () => void {
  const start = deps.clock.now();
  deps.log.event({ event: 'scenario', name: scenario.name, steps: scenario.steps.length });
  // Steps at the same moment run in file order: each waits for the one before.
  let chain = Promise.resolve();
  const cancels = scenario.steps.map((step, index) =>
    deps.clock.schedule(start + step.at * 1000, () => {
      chain = chain.then(async () => {
        try {
          const did = await play(step, deps);
          deps.log.event({ event: 'scenario_step', step: index + 1, did, note: step.note });
        } catch (err) {
          deps.log.warn(`scenario step ${index + 1} failed: ${(err as Error).message}`);
        }
      });
    }),
  );
  return () => {
    for (const cancel of cancels) cancel();
  };
}
