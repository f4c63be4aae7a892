import { describe, expect, it } from 'vitest';
import { compileRedaction, DEFAULT_REDACTION_PATTERNS, redact, REDACTION_MASK, RedactionPatternError } from './redaction.js';

const defaults = compileRedaction([]);

describe('redaction', () => {
  it.each([
    ['login ok password=hunter2 user=bob', `login ok password=${REDACTION_MASK} user=bob`],
    ['{"password":"s3cr3t!","user":"x"}', `{"password":"${REDACTION_MASK}","user":"x"}`],
    ['GET /cb?token=abc.def&x=1', `GET /cb?token=${REDACTION_MASK}&x=1`],
    ['refresh_token: eyJhbGciOi', `refresh_token: ${REDACTION_MASK}`],
    ['Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.x', `Authorization: Bearer ${REDACTION_MASK}`],
    ['using key AKIAIOSFODNN7EXAMPLE now', `using key ${REDACTION_MASK} now`],
    ['aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', `aws_secret_access_key=${REDACTION_MASK}`],
  ])('masks %s', (input, expected) => {
    const result = redact(input, defaults);
    expect(result.text).toBe(expected);
    expect(result.count).toBeGreaterThan(0);
  });

  it('leaves ordinary lines alone and counts nothing', () => {
    expect(redact('step 3/7: bind 0000:3b:00.0 to vfio-pci', defaults)).toEqual({ text: 'step 3/7: bind 0000:3b:00.0 to vfio-pci', count: 0 });
  });

  it('applies configured patterns, with or without a group, and without the defaults', () => {
    const custom = compileRedaction(['/card=(\\d{12})\\d{4}/', 'ssn \\d{3}-\\d\\d-\\d{4}'], false);
    expect(redact('card=1234567890123456 ssn 123-45-6789 password=x', custom)).toEqual({
      text: `card=${REDACTION_MASK}3456 ${REDACTION_MASK} password=x`,
      count: 2,
    });
  });

  it('masks every occurrence', () => {
    expect(redact('password=a password=b', defaults)).toEqual({ text: `password=${REDACTION_MASK} password=${REDACTION_MASK}`, count: 2 });
  });

  it('rejects an invalid pattern at compile time', () => {
    expect(() => compileRedaction(['(unclosed'])).toThrow(RedactionPatternError);
  });

  it('skips a default pattern only for lines it cannot match, all six or one by one (same result as running all of them)', () => {
    const unfiltered = compileRedaction(DEFAULT_REDACTION_PATTERNS, false);
    const parts = ['password=', 'PassWord: "', 'pwd=', 'x_token=', 'api-key:', 'APIKEY=', 'client_secret=', 'Authorization: Basic ', 'bearer ', 'Bearer ', 'AKIAIOSFODNN7EXAMPLE', 'ASIAXXXXXXXXXXXXXXXX', 'aws_secret_access_key=', 'hunter2', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'abcdefgh12345', ' ', '"', '&', 'step 3/7 ok', 'token', 'key', 'secret', 'Bearer', '=', ':', "'"];
    let seed = 11;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let n = 0; n < 2_000; n++) {
      const line = Array.from({ length: 1 + (next() % 6) }, () => parts[next() % parts.length]).join('');
      expect(redact(line, defaults)).toEqual(redact(line, unfiltered));
    }
    const withCustom = compileRedaction(['order \\d+']);
    expect(redact('order 42 shipped', withCustom)).toEqual({ text: `${REDACTION_MASK} shipped`, count: 1 });
  });
});
