/** The EPIPE policy `run` applies; in a module of its own, which loads nothing. */

/**
 * What to do when standard output's reader goes away (EPIPE). Unset, the command stops quietly,
 * as a Unix tool does under `| head`; a server sets it to go on without its stdout.
 */
export const stdoutClosed: { handler: (() => void) | undefined } = { handler: undefined };
