#!/usr/bin/env node
// Records the code version (package.json version + git commit) in dist/build-info.json at build
// time, so every model a worker trains names the code that produced it.
const { writeFileSync, mkdirSync } = require('node:fs');
const path = require('node:path');
const root = path.resolve(__dirname, '..');
const { describeSource } = require(path.join(root, 'dist/config/codeVersion.js'));
mkdirSync(path.join(root, 'dist'), { recursive: true });
const info = { codeVersion: describeSource(root), builtAt: new Date().toISOString() };
writeFileSync(path.join(root, 'dist/build-info.json'), `${JSON.stringify(info, null, 2)}\n`);
