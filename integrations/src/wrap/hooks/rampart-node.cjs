// Written by `rampart wrap` into its shim directory (required through NODE_OPTIONS for the wrapped
// agent). Node runs shell commands with /bin/sh by absolute path (child_process.exec, execSync,
// and spawn/execFile with shell: true), which no PATH entry can stand in front of. Under
// `rampart wrap` they use $SHELL, the shim that decides each command, instead.
'use strict';
const path = require('path');
const fs = require('fs');
const cp = require('child_process');

function shim() {
  const shell = process.env.SHELL || '';
  const shims = process.env.RAMPART_WRAP_DIR || '';
  return shell && shims && path.dirname(shell) === shims && fs.existsSync(shell) ? shell : null;
}

function withShell(options, always) {
  const shell = shim();
  if (!shell) return options;
  if (options === undefined || options === null) return always ? { shell } : options;
  if (typeof options !== 'object') return options;
  if (options.shell === true || (always && options.shell === undefined)) return { ...options, shell };
  return options;
}

// exec(command[, options][, callback]) and execSync(command[, options]) always use a shell.
for (const name of ['exec', 'execSync']) {
  const original = cp[name];
  cp[name] = function (command, options, ...rest) {
    if (typeof options === 'function') return original.call(this, command, withShell(undefined, true), options, ...rest);
    return original.call(this, command, withShell(options, true), ...rest);
  };
}
// spawn/execFile(file[, args][, options]...): only with shell: true.
for (const name of ['spawn', 'spawnSync', 'execFile', 'execFileSync']) {
  const original = cp[name];
  cp[name] = function (file, args, options, ...rest) {
    if (Array.isArray(args)) return original.call(this, file, args, withShell(options, false), ...rest);
    return original.call(this, file, withShell(args, false), options, ...rest);
  };
}
// util.promisify(exec) resolves {stdout, stderr}: keep that, through the patched functions.
const util = require('util');
for (const name of ['exec', 'execFile']) {
  const patched = cp[name];
  Object.defineProperty(patched, util.promisify.custom, {
    value: (...args) => new Promise((resolve, reject) => {
      patched(...args, (error, stdout, stderr) => {
        if (error) {
          error.stdout = stdout;
          error.stderr = stderr;
          reject(error);
        } else {
          resolve({ stdout, stderr });
        }
      });
    }),
  });
}
