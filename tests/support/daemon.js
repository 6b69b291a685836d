/*
 * The JavaScript tests' daemon (tests/browser, tests/openapi): `shortd
 * serve` on 127.0.0.1:0 over a database, with clicks written every 100 ms.
 */
'use strict';

const { spawn } = require('node:child_process');

/* Starts it with env added to the environment; returns { child, base },
 * base a promise of its URL once it says "listening on" (rejected when it
 * exits first or says nothing for 10 s). */
function start(bin, db, env) {
  const child = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--db', db, '--flush-interval', '100'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const base = new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error('no "listening on" line in 10 s: ' + err)), 10000);
    child.stderr.on('data', (chunk) => {
      err += chunk;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error('shortd exited with ' + code + ': ' + err)));
  });
  return { child, base };
}

module.exports = { start };
