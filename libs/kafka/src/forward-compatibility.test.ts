import { describe, expect, it } from 'vitest';
import { logMessageSchema, signalMessageSchema } from '@killtrace/schemas';
import { decodeMessage } from './codec.js';

/**
 * Rolling upgrades run old and new collectors side by side: a newer producer may add fields anywhere in a message.
 * Decoders ignore what they do not know (zod objects strip unknown keys) instead of dead-lettering the message.
 */
describe('decoding messages from a newer producer', () => {
  const bytes = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), 'utf8');

  it('ignores unknown fields in the envelope and in the signal, at every depth', () => {
    const decoded = decodeMessage(
      signalMessageSchema,
      bytes({
        v: 1,
        producer: { component: 'cluster-watcher', instance: 'c1', build: 'v9' },
        future: { anything: true },
        signal: {
          kind: 'kubelet',
          at: 1_790_000_000_000,
          action: 'kill_decision',
          pod: { namespace: 'ns', name: 'p', uid: 'u1', zone: 'eu-1' },
          container: 'app',
          text: 'Container app failed liveness probe, will be restarted',
          severity: 'warning',
        },
      }),
    );
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(decoded.value.signal).toEqual({
      kind: 'kubelet',
      at: 1_790_000_000_000,
      action: 'kill_decision',
      pod: { namespace: 'ns', name: 'p', uid: 'u1' },
      container: 'app',
      text: 'Container app failed liveness probe, will be restarted',
    });
    expect(decoded.value).not.toHaveProperty('future');
  });

  it('reads an app log line with fields it does not know', () => {
    const decoded = decodeMessage(
      logMessageSchema,
      bytes({
        v: 1,
        producer: { component: 'node-agent', instance: 'n1' },
        signal: { kind: 'app_log', at: 1, pod: { namespace: 'ns', name: 'p', uid: 'u1' }, container: 'app', restartCount: 0, stream: 'stdout', text: 'hi', partialId: 'x' },
      }),
    );
    expect(decoded.ok && decoded.value.signal.kind === 'app_log' ? decoded.value.signal.text : undefined).toBe('hi');
  });
});
