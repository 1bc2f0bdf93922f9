// Stand-in for the HACS coordination server: the same runtime contract, a handful of its V2 tools,
// and never more forgiving than the real one (../shared/fixtures/hacs-v2 is the reference):
// a body is JSON only with Content-Type: application/json, /health carries no commit, replies and
// errors have the real shapes. It starts in milliseconds and needs no dependencies.
// Environment: SSE_PORT, SSE_HOST (then HOST), NODE_ENV, USE_HTTP, V2_DATA_ROOT.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const checkout = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(checkout);
for (const dir of ['data', 'config', 'logs']) mkdirSync(dir, { recursive: true });

const logFile = path.join('logs', 'server.log');
const log = (msg) => appendFileSync(logFile, `${new Date().toISOString()} ${msg}\n`);

const port = process.env.SSE_PORT || 3444;
const listenHost = process.env.SSE_HOST || process.env.HOST || 'localhost';
const plainHttp = process.env.NODE_ENV === 'development' || process.env.USE_HTTP === 'true';
const dataRoot = process.env.V2_DATA_ROOT || '/mnt/coordinaton_mcp_data/';
const version = JSON.parse(readFileSync('package.json', 'utf8')).version;

// Like the real server, it rewrites a tracked file under data/ at run time.
writeFileSync(path.join('data', 'server-state.json'),
  JSON.stringify({ startedAt: new Date().toISOString() }, null, 2) + '\n');

function health() {
  return {
    status: 'healthy', timestamp: new Date().toISOString(),
    server: 'Streamable HTTP MCP Coordination System', version: '2.0.0', port,
    sessions: 0, sseClients: 0, uptime: process.uptime(),
  };
}

function canWrite() {
  try {
    mkdirSync(dataRoot, { recursive: true });
    writeFileSync(path.join(dataRoot, '.write-probe'), String(Date.now()));
    return true;
  } catch {
    return false;
  }
}

const readJSON = (file) => {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
};
const instancesDir = () => path.join(dataRoot, 'instances');
const failure = (code, message) => ({ success: false, error: { code, message } });

// The real tools' names, arguments and result shapes (src/server.js, src/v2/*.js).
const tools = {
  get_server_status: () => ({
    success: true, status: canWrite() ? 'operational' : 'degraded', version, protocol: 'mcp',
    timestamp: new Date().toISOString(), functions_available: Object.keys(tools).length,
  }),
  bootstrap_v2: ({ name }) => {
    if (!name) return failure('MISSING_PARAMETERS', 'name is required');
    const instanceId = `${name}-${randomBytes(2).toString('hex')}`;
    const now = new Date().toISOString();
    mkdirSync(path.join(instancesDir(), instanceId), { recursive: true });
    writeFileSync(path.join(instancesDir(), instanceId, 'preferences.json'), JSON.stringify({
      instanceId, name, role: null, project: null, personality: null, createdAt: now, lastActiveAt: now,
    }, null, 2));
    writeFileSync(path.join(instancesDir(), instanceId, 'diary.md'), `# ${name} Diary\n\nCreated: ${now}\n\n`);
    return { success: true, instanceId, isNew: true };
  },
  // main's name for it (bootstrap_v2 stays for v2).
  bootstrap: (args) => tools.bootstrap_v2(args),
  get_all_instances: () => {
    const dirs = existsSync(instancesDir()) ? readdirSync(instancesDir()) : [];
    const instances = dirs.map((dir) => readJSON(path.join(instancesDir(), dir, 'preferences.json')))
      .filter(Boolean)
      .map(({ instanceId, name, role, personality, project, lastActiveAt, createdAt }) => (
        { instanceId, name, role, personality, project, lastActiveAt, createdAt }));
    return { success: true, instances, total: instances.length };
  },
  take_on_role: ({ instanceId, role }) => {
    if (!instanceId) return failure('MISSING_PARAMETERS', 'instanceId is required');
    if (!role) return failure('MISSING_PARAMETERS', 'role is required');
    const prefsFile = path.join(instancesDir(), instanceId, 'preferences.json');
    const prefs = readJSON(prefsFile);
    if (!prefs) return failure('INVALID_INSTANCE_ID', `Instance ID ${instanceId} not found`);
    if (!readJSON(path.join(dataRoot, 'roles', role, 'role.json'))) {
      return failure('ROLE_NOT_FOUND', `Role "${role}" not found`);
    }
    prefs.role = role;
    prefs.lastActiveAt = new Date().toISOString();
    writeFileSync(prefsFile, JSON.stringify(prefs, null, 2));
    return { success: true, role, roleWisdom: `# ${role} Role Wisdom\n` };
  },
};

function rpc(body) {
  const { jsonrpc, method, params = {}, id } = body;
  const reply = (result) => ({ jsonrpc: '2.0', result, id });
  const fail = (code, message, data) => ({ jsonrpc: '2.0', error: { code, message, ...(data ? { data } : {}) }, id: id || null });
  if (jsonrpc !== '2.0') return fail(-32600, 'Invalid Request: jsonrpc must be "2.0"');
  if (method === 'initialize') {
    return reply({ protocolVersion: '2025-06-18', capabilities: { tools: {} },
      serverInfo: { name: 'hacs-standin', version } });
  }
  if (method === 'tools/list') {
    return reply({ tools: Object.keys(tools).map((name) => ({ name, description: name, inputSchema: { type: 'object' } })) });
  }
  if (method === 'tools/call') {
    const tool = tools[params.name];
    const result = tool ? tool(params.arguments || {}) : failure('FUNCTION_NOT_FOUND', `Function '${params.name}' not found`);
    if (result.success === false) return fail(-32603, 'Internal error', result.error.message);
    return reply({ success: true, content: [{ type: 'text', text: JSON.stringify(result, null, 2) }], data: result });
  }
  return fail(-32601, `Method not found: ${method}`);
}

function handler(req, res) {
  const send = (code, body) => {
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const url = new URL(req.url, 'http://x');
  if (req.method === 'GET' && url.pathname === '/health') return send(200, health());
  if (req.method === 'POST' && url.pathname === '/mcp') {
    let raw = '';
    req.on('data', (chunk) => { raw += chunk; });
    req.on('end', () => {
      // express.json(): only a JSON content type is parsed; anything else leaves an empty body.
      let body = {};
      if ((req.headers['content-type'] || '').startsWith('application/json')) {
        try {
          body = JSON.parse(raw || '{}');
        } catch (err) {
          return send(400, { error: err.message });
        }
      }
      return send(200, rpc(body));
    });
    return undefined;
  }
  return send(404, { error: 'not found', path: url.pathname });
}

function tlsOptions() {
  // Like the real server outside development: make its own certificate when it has none.
  mkdirSync('certs', { recursive: true });
  const [key, cert] = ['certs/server.key', 'certs/server.crt'];
  if (!existsSync(key) || !existsSync(cert)) {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '365',
      '-subj', '/CN=localhost', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  }
  return { key: readFileSync(key), cert: readFileSync(cert) };
}

const server = plainHttp ? http.createServer(handler) : https.createServer(tlsOptions(), handler);
server.listen(port, listenHost, () => {
  log(`listening on ${plainHttp ? 'http' : 'https'}://${listenHost}:${port} data ${dataRoot}`);
});
server.on('error', (err) => {
  log(`server error: ${err.message}`);
  process.exit(1);
});
process.on('SIGTERM', () => {
  log('SIGTERM: stopping');
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 2000).unref();
});
