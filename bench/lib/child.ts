import { execFile } from 'node:child_process';

/** Run a Node script in a fresh process and parse the JSON it prints last. */
export function runChild<T>(args: string[], cwd: string): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`${args.join(' ')} failed: ${err.message}\n${stderr.slice(-4000)}`));
        return;
      }
      const last = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${args.join(' ')} printed no JSON result:\n${stdout.slice(-2000)}\n${stderr.slice(-2000)}`));
      }
    });
  });
}
