// The action's main and post steps (action.yml: runs.using node24; of the
// kinds of action only JavaScript ones have a post step, composite ones do
// not). Both run scripts/github-action with the runner's own node, so the
// action needs nothing installed. action.yml names this file for both: the
// post step is told apart by the state main saves through $GITHUB_STATE,
// which the runner hands to post as STATE_main.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const post = process.env.STATE_main === 'done';
if (!post && process.env.GITHUB_STATE) {
	fs.appendFileSync(process.env.GITHUB_STATE, 'main=done\n');
}
const script = path.join(__dirname, 'github-action');
const r = spawnSync('bash', post ? [script, '--post'] : [script], { stdio: 'inherit' });
process.exitCode = r.status === null ? 1 : r.status;
