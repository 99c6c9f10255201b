import { describe, expect, it } from 'vitest';
import { loadConfig, validateConfigObject } from '../../config/index.js';
import {
  accessOf, ADMIN_ROLES, assertInScope, filterInScope, inScope, READ_ROLES, requireRole, scopeRegions, type Principal,
} from '../../server/auth.js';
import { ApiError } from '../../server/errors.js';
import { BadCredentialLimiter, SECURITY_DEFAULTS, securitySettings } from '../../server/security.js';
import { formatValidationErrors } from '../../server/validation.js';

const gd: Principal = { name: 'gd', role: 'manager', regions: ['GD'] };
const gdgx: Principal = { name: 'gdgx', role: 'manager', regions: ['GD', 'GX'] };
const all: Principal = { name: 'exec', role: 'executive', regions: null };

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof ApiError ? `${error.statusCode} ${error.code}` : String(error);
  }
}

describe('declared access', () => {
  it('reads requireRole hooks wherever they are, and config.access', () => {
    expect(accessOf({ preHandler: requireRole(READ_ROLES) })).toEqual({ roles: [...READ_ROLES] });
    expect(accessOf({ onRequest: [async () => undefined, requireRole(ADMIN_ROLES)] })).toEqual({ roles: ['admin'] });
    expect(accessOf({ config: { access: 'public' } })).toEqual({ public: true });
    expect(accessOf({ config: { access: ['admin', 'viewer'] } })).toEqual({ roles: ['admin', 'viewer'] });
    expect(accessOf({ onRequest: async () => undefined })).toBeUndefined();
    expect(accessOf({})).toBeUndefined();
  });

  it('lets a requireRole hook refuse with 403 naming the allowed roles', async () => {
    const hook = requireRole(['admin', 'ingest']);
    const request = { principal: gd } as never;
    await expect(hook(request, {} as never)).rejects.toMatchObject({ statusCode: 403, details: { role: 'manager', allowed: ['admin', 'ingest'] } });
    await expect(hook({} as never, {} as never)).rejects.toMatchObject({ statusCode: 401 });
    await expect(hook({ principal: { ...gd, role: 'ingest' } } as never, {} as never)).resolves.toBeUndefined();
  });
});

describe('region scope', () => {
  it('gives a scoped principal its own regions for "all", and 403 outside them', () => {
    expect(scopeRegions(gd, undefined)).toEqual(['GD']);
    expect(scopeRegions(gd, [])).toEqual(['GD']);
    expect(scopeRegions(gd, ['GD'])).toEqual(['GD']);
    expect(code(() => scopeRegions(gd, ['BJ']))).toBe('403 SQM_FORBIDDEN');
    expect(code(() => scopeRegions(gd, ['GD', 'BJ']))).toBe('403 SQM_FORBIDDEN');
    expect(scopeRegions(gdgx, ['GX'])).toEqual(['GX']);
  });

  it('gives an unscoped principal what it asks for, null meaning every region', () => {
    expect(scopeRegions(all, undefined)).toBeNull();
    expect(scopeRegions(all, ['BJ', 'GD'])).toEqual(['BJ', 'GD']);
  });

  it('refuses a principal with an empty scope rather than querying no region', () => {
    expect(code(() => scopeRegions({ name: 'none', role: 'viewer', regions: [] }, undefined))).toBe('403 SQM_FORBIDDEN');
  });

  it('filters in-memory lists and checks single regions', () => {
    const items = [{ r: 'GD' }, { r: 'BJ' }, { r: 'GX' }, { r: undefined }];
    expect(filterInScope(gd, items, (i) => i.r)).toEqual([{ r: 'GD' }]);
    expect(filterInScope(gdgx, items, (i) => i.r)).toEqual([{ r: 'GD' }, { r: 'GX' }]);
    expect(filterInScope(all, items, (i) => i.r)).toHaveLength(4);
    expect(inScope(gd, 'GD')).toBe(true);
    expect(inScope(gd, 'BJ')).toBe(false);
    expect(code(() => assertInScope(gd, 'BJ'))).toBe('403 SQM_FORBIDDEN');
    expect(code(() => assertInScope(all, 'BJ'))).toBeUndefined();
  });
});

describe('bad-credential limiter', () => {
  it('refuses an address past its budget until the window ends', () => {
    let t = 0;
    const limiter = new BadCredentialLimiter(2, 60_000, () => new Date(t));
    expect(limiter.retryAfter('a')).toBe(0);
    limiter.fail('a');
    expect(limiter.retryAfter('a')).toBe(0);
    limiter.fail('a');
    expect(limiter.retryAfter('a')).toBe(60);
    expect(limiter.retryAfter('b')).toBe(0);
    t = 45_000;
    expect(limiter.retryAfter('a')).toBe(15);
    t = 60_000;
    expect(limiter.retryAfter('a')).toBe(0);
  });
});

describe('security settings', () => {
  it('fills every missing field with its default, and default.yaml repeats the defaults', () => {
    const config = loadConfig();
    const { security: _dropped, ...withoutSection } = structuredClone(config);
    expect(securitySettings(validateConfigObject(withoutSection, 'test'))).toEqual(SECURITY_DEFAULTS);
    expect(securitySettings(config)).toEqual(SECURITY_DEFAULTS);
    const partial = validateConfigObject({ ...structuredClone(withoutSection), security: { login: { lockoutMinutes: 30 } } }, 'test');
    expect(securitySettings(partial).login).toEqual({ ...SECURITY_DEFAULTS.login, lockoutMinutes: 30 });
  });

  it('refuses bad security settings, naming the field', () => {
    const base = structuredClone(loadConfig());
    const bad = (security: unknown) => () => validateConfigObject({ ...structuredClone(base), security }, 'test');
    expect(bad({ cookieSecure: 'sometimes' })).toThrow(/security\/cookieSecure/);
    expect(bad({ passwords: { scryptLog2N: 8 } })).toThrow(/security\/passwords\/scryptLog2N/);
    expect(bad({ rateLimit: { perPrincipal: 0 } })).toThrow(/security\/rateLimit\/perPrincipal/);
    expect(bad({ login: { lockoutMinute: 5 } })).toThrow(/security\/login.*lockoutMinute/);
    expect(bad({ session: { idleMinutes: 600, absoluteHours: 1 } })).toThrow(/security\/session\/idleMinutes/);
  });
});

describe('validation messages', () => {
  it('name the field, the unknown property and the allowed values', () => {
    const error = formatValidationErrors([
      { keyword: 'additionalProperties', instancePath: '', schemaPath: '', params: { additionalProperty: 'regoins' }, message: 'must NOT have additional properties' },
      { keyword: 'enum', instancePath: '/role', schemaPath: '', params: { allowedValues: ['admin', 'viewer'] }, message: 'must be equal to one of the allowed values' },
      { keyword: 'required', instancePath: '', schemaPath: '', params: { missingProperty: 'password' }, message: "must have required property 'password'" },
      { keyword: 'minLength', instancePath: '/password', schemaPath: '', params: { limit: 12 }, message: 'must NOT have fewer than 12 characters' },
    ], 'body');
    expect(error.message).toBe('body: unknown field "regoins"; body/role: must be one of admin, viewer; body/password: is required; body/password: must NOT have fewer than 12 characters');
  });
});
