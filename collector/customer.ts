/**
 * Customer identifiers are never stored in clear (RECORDS.md): the collector
 * keeps HMAC-SHA256(secret, normalised identifier) in hex, so repeat-contact
 * and repeat-complaint KPIs can still match one customer across records while
 * a leaked table reveals no phone numbers.
 *
 * Normalisation makes the same phone number written differently hash alike:
 * "+86 138-0013-8000", "0086 13800138000" and "13800138000" are one customer.
 */
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';

/** Digits with optional leading `+` and the usual separators: a phone number as people write it. */
const PHONE_LIKE = /^\+?[\d\s\-()]+$/;
const SEPARATORS = /[\s\-()]/g;

export function normaliseCustomer(value: string): string {
  const trimmed = value.trim();
  if (trimmed.length === 0 || !PHONE_LIKE.test(trimmed)) return trimmed;
  let digits = trimmed.replace(SEPARATORS, '');
  // China's country code, in either international form.
  if (digits.startsWith('+86')) digits = digits.slice(3);
  else if (digits.startsWith('0086')) digits = digits.slice(4);
  return digits;
}

export type CustomerHasher = (value: string | null | undefined) => string;

/** A hasher bound to the server's secret; '' for an absent or blank identifier. */
export function createCustomerHasher(secret: string): CustomerHasher {
  if (secret.length === 0) throw new Error('collector: the customer-id secret must not be empty');
  const key: KeyObject = createSecretKey(Buffer.from(secret, 'utf8'));
  return (value) => {
    if (value === null || value === undefined) return '';
    const normalised = normaliseCustomer(value);
    if (normalised.length === 0) return '';
    return createHmac('sha256', key).update(normalised, 'utf8').digest('hex');
  };
}
