// Runs CloudFront Functions' code under node for the cache model (devtools/deploy/cache_model.py).
// One JSON object per stdin line, one answer per stdout line:
//   {"load": "name", "code": "..."}      -> {"ok": true}
//   {"call": "name", "event": {...}}     -> {"result": ...}   (or {"error": "..."})
// Each function runs in its own context with only `require` (CloudFront's runtime 2.0 offers
// require('crypto')) and `console`, as CloudFront runs it: `handler(event)` is its entry point.
'use strict';
const readline = require('readline');
const vm = require('vm');

const handlers = {};
const input = readline.createInterface({ input: process.stdin });
input.on('line', (line) => {
  let answer;
  try {
    const message = JSON.parse(line);
    if (message.load) {
      const context = vm.createContext({ require, console });
      vm.runInContext(message.code, context, { filename: message.load });
      if (typeof context.handler !== 'function') throw new Error('no handler(event) in ' + message.load);
      handlers[message.load] = context.handler;
      answer = { ok: true };
    } else {
      answer = { result: handlers[message.call](message.event) };
    }
  } catch (err) {
    answer = { error: String(err && err.stack || err) };
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
});
