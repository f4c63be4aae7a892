import { describe, expect, it } from 'vitest';
import { main } from './main.js';

// Option errors of `killtrace setup` stop it before it contacts Elasticsearch or Kibana (the unreachable URLs
// below would otherwise fail differently, with exit status 2).

function stream(sink: string[]): NodeJS.WriteStream {
  return { write: (chunk: string) => sink.push(chunk) > 0, isTTY: false } as unknown as NodeJS.WriteStream;
}

async function setup(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'killtrace', 'setup', ...args], { stdout: stream(out), stderr: stream(err) }, {
    ELASTICSEARCH_URL: 'http://127.0.0.1:1',
    KIBANA_URL: 'http://127.0.0.1:1',
  });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('killtrace setup options', () => {
  it('lists its options in --help', async () => {
    const { code, stdout } = await setup('--help');
    expect(code).toBe(0);
    for (const option of ['--kibana-url', '--kibana-space', '--no-kibana', '--replicas', '--kibana-wait']) expect(stdout).toContain(option);
  });

  it('refuses a bad --replicas or --kibana-wait, naming the option', async () => {
    const replicas = await setup('--replicas', 'two');
    expect(replicas.code).toBe(1);
    expect(replicas.stderr).toContain('--replicas must be an integer from 0 to 16, got "two"');
    const wait = await setup('--kibana-wait', '-5');
    expect(wait.code).toBe(1);
    expect(wait.stderr).toContain('--kibana-wait must be whole seconds from 0 to 3600, got "-5"');
  });

  it('refuses a --kibana-url that is not http(s), naming the setting', async () => {
    const { code, stderr, stdout } = await setup('--kibana-url', 'kibana:5601');
    expect(code).toBe(1);
    expect(stderr).toContain('kibana.url');
    expect(stdout).toBe('');
  });

  it('reports an unreachable Elasticsearch with exit status 2 and its URL', async () => {
    const { code, stderr } = await setup('--no-kibana');
    expect(code).toBe(2);
    expect(stderr).toContain('killtrace setup: Elasticsearch http://127.0.0.1:1:');
  });
});
