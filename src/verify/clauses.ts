/** The clauses of PROTOCOL.md that verify enforces: each line number with the words found there. */

/** A clause of PROTOCOL.md: the line a check enforces and what it says there. */
export interface Clause {
  line: number;
  text: string;
}

export const CLAUSE = {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: quoted from PROTOCOL.md
  connect: { line: 11, text: 'It connects to `${wsUrl}/${emp_id}` and calls `${apiUrl}/...`.' },
  auth: {
    line: 13,
    text: 'With authentication on, the app adds `?token=...` to the WebSocket URL and an `Authorization: Bearer ...` header to HTTP calls.',
  },
  ids: { line: 12, text: '`emp_id` and `shift_id` are positive integers.' },
  frames: {
    line: 18,
    text: 'Server -> app, over the WebSocket (text frames, one JSON object each)',
  },
  offerTypes: {
    line: 25,
    text: '`shift_id` must be a JSON integer; `date`, `start_time`, `end_time` must be strings (`YYYY-MM-DD`, `HH:MM`).',
  },
  resend: {
    line: 29,
    text: 'An offer that is still open when the employee (re)connects should be sent again on connect',
  },
  ping: {
    line: 33,
    text: 'A server uses it, or WebSocket ping frames, to find dead connections.',
  },
  results: {
    line: 37,
    text: 'A server should tell employees when an offer they hold is no longer open',
  },
  clientFrames: {
    line: 43,
    text: 'Anything else a client sends must not crash or stall the server.',
  },
  respondStatus: {
    line: 52,
    text: 'The app treats status 200 or 201 as "sent"; anything else as a failure it shows to the user.',
  },
  answerBody: {
    line: 55,
    text: '{"success":true,"assigned":true,"message":"Shift successfully assigned","timestamp":"..."}',
  },
  fcfs: {
    line: 57,
    text: 'Exactly one employee may ever win a shift, however many accept at the same moment.',
  },
  pending: {
    line: 61,
    text: 'A JSON **array** of the offers this employee has not answered yet and that are still open',
  },
  pendingEmpty: {
    line: 62,
    text: 'each an object of the `shift_offer` shape above (`[]` when none).',
  },
  history: {
    line: 66,
    text: "A JSON array of this employee's past offers, newest first, each of the offer shape, at most `limit` items",
  },
  available: {
    line: 70,
    text: '`{"available": true}` while the shift can still be taken, `false` once assigned or closed.',
  },
  testEndpointSends: { line: 73, text: 'Sends an offer to one employee' },
  testEndpoint: {
    line: 75,
    text: 'Answers `{"status":"sent","emp_id":123,"shift_id":456}` when the employee was connected and got it, or `{"status":"pending",...}` when it was stored for later.',
  },
  devicesTold: {
    line: 94,
    text: '**Every device of the employee who answered is told the outcome.**',
  },
  onlyOffered: { line: 102, text: '**Only an offer that was made can be answered.**' },
  closedNotOffered: { line: 104, text: '**Nothing is offered for a closed shift.**' },
  reconnect: {
    line: 86,
    text: 'Reconnect after an unexpected close or a failed connect, with exponential backoff',
  },
} satisfies Record<string, Clause>;
