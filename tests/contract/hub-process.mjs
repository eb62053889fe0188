// Starts a real hub process on 127.0.0.1 (a free port) for the contract tests, and stops it by its PID.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const defaultDll = path.resolve(here, '../../src/Hub.Server/bin/Release/net10.0/Hub.Server.dll');

// restart() stops it gracefully (SIGTERM) and starts it again on the same port with the same SQLite file;
// restart({ fresh: true }) removes the file first (with its -wal and -shm), as if the log were replaced by an empty one.
export async function startHub(settings = {}) {
  const dll = process.env.HUB_DLL ?? defaultDll;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'hub-contract-'));
  const args = (urls) => {
    // Development: Hub:Auth:Mode defaults to None, so the contract tests need no credentials.
    const list = [dll, '--urls', urls, '--environment', 'Development', '--Logging:LogLevel:Default=Information',
      `--Hub:Log:Sqlite:Path=${path.join(dataDir, 'hub.db')}`];
    for (const [key, value] of Object.entries(settings)) list.push(`--${key}=${value}`);
    return list;
  };
  let { child, url } = await launch(args('http://127.0.0.1:0'), dataDir);
  const terminate = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return {
    get url() { return url; },
    get port() { return Number(new URL(url).port); },
    async stop() {
      await terminate();
      rmSync(dataDir, { recursive: true, force: true });
    },
    async restart({ fresh = false } = {}) {
      await terminate();
      if (fresh) {
        for (const name of readdirSync(dataDir)) if (name.startsWith('hub.db')) rmSync(path.join(dataDir, name), { force: true });
      }
      ({ child, url } = await launch(args(url), dataDir));
    },
  };
}

async function launch(args, cwd) {
  const child = spawn('dotnet', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the hub did not start within 30 s:\n${output}`)), 30_000);
    const onData = (chunk) => {
      output += chunk;
      const match = /Now listening on: (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) { clearTimeout(timer); resolve(match[1]); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`the hub exited with ${code}:\n${output}`)); });
  });
  return { child, url };
}

// Resolves when predicate() holds, polling; rejects after the timeout with what was awaited.
export async function until(predicate, what, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
