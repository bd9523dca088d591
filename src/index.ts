/** The public library surface of shiftctl. */
export { type ErrorCode, EXIT, ShiftctlError } from './errors.js';
export { type FixtureData, parseFixtures, readFixtures } from './fixtures.js';
export type { Clock, EventSink, Fanout, OfferEvent } from './offers/ports.js';
export * as protocol from './protocol/schemas.js';
export type { PushMessage } from './push/message.js';
export { signPush, verifyPush } from './push/signature.js';
export { type PushSinkOptions, type ReceivedPush, startPushSink } from './push/sink.js';
export { createServer, type ServerOptions, type ShiftServer } from './server/create-server.js';
export { createLogger, type Logger, type LoggerOptions } from './server/log.js';
export type { Store } from './store/types.js';
