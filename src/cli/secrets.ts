/** `--secret`, for the commands that sign or check tokens (`serve`, `token`). */
import { type Command, Option } from 'commander';
import { ShiftctlError } from '../errors.js';

/**
 * The `--secret` option, repeatable; `SHIFTCTL_SECRET` holds a comma-separated list. Several
 * secrets let one be rotated out without logging every phone out: the first signs, all verify.
 */
export function secretOption(description: string): Option {
  return new Option('--secret <secret>', description)
    .env('SHIFTCTL_SECRET')
    .argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
}

/**
 * The secrets `command` was given, first the one that signs; undefined for none. Checked here
 * rather than in the option's parser, whose errors would print the value: a secret.
 */
export function secretsOf(command: Command): string[] | undefined {
  const given = command.getOptionValue('secret') as string[] | undefined;
  if (given === undefined) return undefined;
  const fromEnv = command.getOptionValueSource('secret') === 'env';
  const secrets = fromEnv ? given.join(',').split(',') : given;
  if (secrets.includes('')) {
    throw new ShiftctlError(
      'E_USAGE',
      fromEnv
        ? 'SHIFTCTL_SECRET has an empty secret: give one secret, or several separated by single commas.'
        : '--secret must not be empty.',
    );
  }
  return secrets;
}
