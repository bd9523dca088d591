/** The scenarios of `shiftctl bench`, in the order they run; apart, so `--help` can name them. */
export const SCENARIOS = [
  'connect',
  'offers',
  'answers',
  'broadcast',
  'race',
  'reconnect',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];
