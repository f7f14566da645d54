/**
 * Child processes of an e2e run, and the guarantee that they stop by themselves: each is started in
 * its own process group and registered with a detached "reaper" shell that kills the groups when
 * this Node process dies (even by SIGKILL) or when the run outlives its deadline. An `exit` handler
 * kills them too, synchronously, when the test process ends normally or on a test timeout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';

const REAPER = `
pidfile="$1"; parent="$2"; deadline="$3"; marker="$4"
while kill -0 "$parent" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 1; done
kill_all() { while read -r kind id; do
  [ -n "$id" ] || continue
  if [ "$kind" = g ]; then kill "-$1" -- "-$id" 2>/dev/null; else kill "-$1" "$id" 2>/dev/null; fi
done < "$pidfile"
# Stragglers that left the groups (e.g. Chromium's crashpad handler daemonizes): they name our root.
for p in /proc/[0-9]*; do
  [ "\${p#/proc/}" = "$$" ] && continue
  tr '\\0' ' ' < "$p/cmdline" 2>/dev/null | grep -qF -- "$marker" && kill "-$1" "\${p#/proc/}" 2>/dev/null
done; }
kill_all TERM; sleep 3; kill_all KILL
`;

/** Process ids this run owns, killed together. */
export class ProcessGroup {
  private readonly entries: { kind: 'g' | 'p'; id: number }[] = [];
  private readonly reaper: ChildProcess;
  private readonly onExit = () => this.killSync('SIGKILL');

  /**
   * @param marker a unique string (the run's temp root) in the command line of every process of the
   *   run: processes that leave their group (Chromium's crashpad handler daemonizes) are found by it.
   */
  constructor(private readonly pidFile: string, deadlineMs: number, private readonly marker: string) {
    writeFileSync(pidFile, '');
    const deadline = Math.floor((Date.now() + deadlineMs) / 1000);
    this.reaper = spawn('bash', ['-c', REAPER, 'reaper', pidFile, String(process.pid), String(deadline), marker], {
      detached: true,
      stdio: 'ignore',
    });
    this.reaper.unref();
    process.once('exit', this.onExit);
  }

  /** Registers a process group leader (a child spawned with `detached: true`). */
  addGroup(pgid: number): void {
    this.entries.push({ kind: 'g', id: pgid });
    appendFileSync(this.pidFile, `g ${pgid}\n`);
  }

  /** Registers a single process (e.g. a browser started by Playwright). */
  addProcess(pid: number): void {
    this.entries.push({ kind: 'p', id: pid });
    appendFileSync(this.pidFile, `p ${pid}\n`);
  }

  killSync(signal: NodeJS.Signals): void {
    for (const e of this.entries) {
      try {
        process.kill(e.kind === 'g' ? -e.id : e.id, signal);
      } catch {
        // Already gone.
      }
    }
    for (const pid of pidsMentioning(this.marker)) {
      try {
        process.kill(pid, signal);
      } catch {
        // Already gone.
      }
    }
  }

  isAlive(): boolean {
    const groupAlive = this.entries.some((e) => {
      try {
        process.kill(e.kind === 'g' ? -e.id : e.id, 0);
        return true;
      } catch {
        return false;
      }
    });
    return groupAlive || pidsMentioning(this.marker).length > 0;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; stops the reaper. */
  async stop(graceMs = 4000): Promise<void> {
    this.killSync('SIGTERM');
    const until = Date.now() + graceMs;
    while (this.isAlive() && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    this.killSync('SIGKILL');
    const gone = Date.now() + 2000;
    while (this.isAlive() && Date.now() < gone) await new Promise((r) => setTimeout(r, 50));
    process.removeListener('exit', this.onExit);
    if (this.reaper.pid && this.reaper.exitCode === null && this.reaper.signalCode === null) {
      try {
        process.kill(this.reaper.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
      // Gone (or a zombie, whose command line is empty) within 2 s.
      const pid = this.reaper.pid;
      const running = () => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').length > 0;
        } catch {
          return false;
        }
      };
      for (let i = 0; i < 40 && running(); i++) await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Processes (other than this one and the reaper) whose command line contains `marker`. */
export function pidsMentioning(marker: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmd.includes(marker) && !cmd.includes('pidfile=')) out.push(Number(entry));
    } catch {
      // Exited meanwhile.
    }
  }
  return out;
}

/** Direct children of `parent` whose command line contains `marker` (used to find the browser). */
export function childPidsWith(parent: number, marker: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== parent) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) out.push(Number(entry));
    } catch {
      // Exited meanwhile.
    }
  }
  return out;
}
