import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCustomerHasher, normaliseCustomer } from '../../collector/customer.js';

const SECRET = 'test-secret-0123456789abcdef0123456789abcdef';

describe('normaliseCustomer', () => {
  it('writes a Chinese mobile number one way, whatever the punctuation or prefix', () => {
    for (const form of ['13800138000', '+86 138-0013-8000', '+8613800138000', '0086 138 0013 8000', ' (138) 0013-8000 ']) {
      expect(normaliseCustomer(form), form).toBe('13800138000');
    }
  });

  it('keeps other country codes and account ids as they are (trimmed)', () => {
    expect(normaliseCustomer('+1 (555) 010-9999')).toBe('+15550109999');
    expect(normaliseCustomer('  ACC-00017 ')).toBe('ACC-00017');
    expect(normaliseCustomer('user@example.cn')).toBe('user@example.cn');
  });
});

describe('createCustomerHasher', () => {
  const hash = createCustomerHasher(SECRET);

  it('is HMAC-SHA256 of the normalised id, in hex, never the clear text', () => {
    // Computed independently: printf %s 13800138000 | openssl dgst -sha256 -hmac "$SECRET"
    expect(hash('13800138000')).toBe('c2d54fb3e8cda4ae9bcc08ce7af7822b54fa2dd9197da8f5fd42a0fe46919e33');
    expect(hash('+86 138-0013-8000')).toBe(hash('13800138000'));
    expect(hash('+86 138-0013-8000')).not.toContain('13800138000');
  });

  it('depends on the secret', () => {
    const other = createCustomerHasher('another-secret-0123456789abcdef0123');
    expect(other('13800138000')).not.toBe(hash('13800138000'));
    expect(other('13800138000')).toBe(createHmac('sha256', 'another-secret-0123456789abcdef0123').update('13800138000').digest('hex'));
  });

  it('gives the empty string for no customer', () => {
    expect(hash(undefined)).toBe('');
    expect(hash(null)).toBe('');
    expect(hash('   ')).toBe('');
  });

  it('refuses an empty secret', () => {
    expect(() => createCustomerHasher('')).toThrow(/secret/);
  });
});
