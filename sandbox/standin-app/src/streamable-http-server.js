// Stand-in for the HACS coordination server: the same runtime contract, none of the features.
// Environment: SSE_PORT, SSE_HOST (then HOST), NODE_ENV, USE_HTTP, V2_DATA_ROOT.
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const checkout = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(checkout);
for (const dir of ['data', 'config', 'logs']) mkdirSync(dir, { recursive: true });

const logFile = path.join('logs', 'server.log');
const log = (msg) => appendFileSync(logFile, `${new Date().toISOString()} ${msg}\n`);

const port = Number(process.env.SSE_PORT || 3444);
const listenHost = process.env.SSE_HOST || process.env.HOST || 'localhost';
const plainHttp = process.env.NODE_ENV === 'development' || process.env.USE_HTTP === 'true';
const dataRoot = process.env.V2_DATA_ROOT || '/mnt/coordinaton_mcp_data/';
const version = JSON.parse(readFileSync('package.json', 'utf8')).version;
let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
} catch (err) {
  log(`cannot read commit: ${err.message.split('\n')[0]}`);
}

// Like the real server, it rewrites a tracked file under data/ at run time.
writeFileSync(path.join('data', 'server-state.json'),
  JSON.stringify({ startedAt: new Date().toISOString(), commit }, null, 2) + '\n');

function health() {
  return {
    status: 'healthy', timestamp: new Date().toISOString(),
    server: 'Streamable HTTP MCP Coordination System', version, port: String(port),
    sessions: 0, sseClients: 0, uptime: process.uptime(), commit,
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

const notePath = (name) => {
  if (!/^[A-Za-z0-9_.-]+$/.test(name || '')) throw new Error('note name must be [A-Za-z0-9_.-]+');
  return path.join(dataRoot, 'notes', `${name}.json`);
};

const tools = {
  get_server_status: () => ({ status: canWrite() ? 'operational' : 'degraded', dataRoot, version, commit }),
  write_note: ({ name, content }) => {
    mkdirSync(path.join(dataRoot, 'notes'), { recursive: true });
    writeFileSync(notePath(name), JSON.stringify({ name, content }) + '\n');
    return { written: notePath(name) };
  },
  read_note: ({ name }) => JSON.parse(readFileSync(notePath(name), 'utf8')),
};

function rpc(request) {
  const { id = null, method, params = {} } = request;
  const reply = (result) => ({ jsonrpc: '2.0', id, result });
  const fail = (code, message) => ({ jsonrpc: '2.0', id, error: { code, message } });
  if (method === 'initialize') {
    return reply({ protocolVersion: '2025-03-26', serverInfo: { name: 'hacs-standin', version } });
  }
  if (method === 'tools/list') return reply({ tools: Object.keys(tools).map((name) => ({ name })) });
  if (method === 'tools/call') {
    const tool = tools[params.name];
    if (!tool) return fail(-32601, `unknown tool ${params.name}`);
    try {
      const result = tool(params.arguments || {});
      return reply({ content: [{ type: 'text', text: JSON.stringify(result) }] });
    } catch (err) {
      return fail(-32000, err.message);
    }
  }
  return fail(-32601, `unknown method ${method}`);
}

function handler(req, res) {
  const send = (code, body) => {
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const url = new URL(req.url, 'http://x');
  if (req.method === 'GET' && url.pathname === '/health') return send(200, health());
  if (req.method === 'POST' && url.pathname === '/mcp') {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      try {
        send(200, rpc(JSON.parse(body)));
      } catch (err) {
        send(400, { jsonrpc: '2.0', id: null, error: { code: -32700, message: err.message } });
      }
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
  log(`listening on ${plainHttp ? 'http' : 'https'}://${listenHost}:${port} commit ${commit} data ${dataRoot}`);
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
