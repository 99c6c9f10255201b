/**
 * The one way to put a value into SQL.
 *
 * `sql\`SELECT … WHERE region = ${region}\`` escapes every interpolated value by
 * its type. Identifiers (tables, columns, databases) are admitted only as
 * `Identifier` objects, which can be made only from a fixed allow-list
 * (`identifier(name, allowed)`) or from a name checked against a strict pattern
 * (`databaseIdentifier`). Nothing else in SQM builds SQL from strings.
 *
 * The output must parse on ClickHouse 18.16 and on chDB 26.x, so literals use
 * the oldest common syntax: quoted strings with backslash escapes, plain
 * numbers, `toDateTime(<epoch>)` for instants, `[…]` arrays and `(…)` lists.
 */

/** A piece of SQL text that is safe by construction. */
export class Sql {
  /** @internal use the `sql` tag, `sql.raw` is for trusted constants only */
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** A quoted identifier, only obtainable through an allow-list. */
export class Identifier {
  private constructor(readonly name: string) {}
  get quoted(): string {
    return '`' + this.name + '`';
  }
  /** @internal */
  static unchecked(name: string): Identifier {
    return new Identifier(name);
  }
}

/** A bare list for `IN (…)`; an empty list is refused, because `IN ()` is not SQL. */
export class SqlList {
  constructor(readonly values: readonly SqlScalar[]) {}
}

export type SqlScalar = string | number | bigint | boolean | Date | null;
export type SqlValue = SqlScalar | readonly SqlValue[] | Sql | Identifier | SqlList;

const IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** An identifier from a fixed list: anything not on the list throws. */
export function identifier(name: string, allowed: readonly string[]): Identifier {
  if (!allowed.includes(name)) {
    throw new SqlBuildError(`identifier "${name}" is not one of: ${allowed.join(', ')}`);
  }
  if (!IDENTIFIER_PATTERN.test(name)) throw new SqlBuildError(`identifier "${name}" is not a plain name`);
  return Identifier.unchecked(name);
}

/** A database name from configuration: a plain name, nothing else. */
export function databaseIdentifier(name: string): Identifier {
  if (!IDENTIFIER_PATTERN.test(name)) {
    throw new SqlBuildError(`database name "${name}" must match ${IDENTIFIER_PATTERN}`);
  }
  return Identifier.unchecked(name);
}

/** `db`.`table` */
export function qualified(db: Identifier, table: Identifier): Sql {
  return new Sql(`${db.quoted}.${table.quoted}`);
}

export class SqlBuildError extends Error {
  override name = 'SqlBuildError';
}

/** Escape a string for a single-quoted ClickHouse literal. */
export function quoteString(value: string): string {
  let out = "'";
  for (const ch of value) {
    switch (ch) {
      case '\\': out += '\\\\'; break;
      case "'": out += "\\'"; break;
      case '\0': out += '\\0'; break;
      case '\n': out += '\\n'; break;
      case '\r': out += '\\r'; break;
      case '\t': out += '\\t'; break;
      default: out += ch;
    }
  }
  return out + "'";
}

function renderNumber(value: number): string {
  if (!Number.isFinite(value)) throw new SqlBuildError(`number ${value} cannot be put into SQL`);
  const text = Number.isInteger(value) && Math.abs(value) < 2 ** 53 ? value.toFixed(0) : String(value);
  // Parenthesise negatives so `a - ${-1}` never becomes a comment (`--`).
  return value < 0 ? `(${text})` : text;
}

function renderScalar(value: SqlScalar): string {
  if (value === null) return 'NULL';
  switch (typeof value) {
    case 'string': return quoteString(value);
    case 'number': return renderNumber(value);
    case 'bigint': return value < 0n ? `(${value.toString()})` : value.toString();
    case 'boolean': return value ? '1' : '0';
    default:
      if (value instanceof Date) {
        const ms = value.getTime();
        if (!Number.isFinite(ms)) throw new SqlBuildError('invalid Date cannot be put into SQL');
        if (ms < 0 || ms >= 2 ** 32 * 1000) throw new SqlBuildError(`date ${value.toISOString()} is outside DateTime's range`);
        // Seconds since the epoch: the same instant on every server, whatever its time zone.
        return `toDateTime(${Math.floor(ms / 1000)})`;
      }
      throw new SqlBuildError(`a value of type ${typeof value} cannot be put into SQL`);
  }
}

export function renderValue(value: SqlValue): string {
  if (value instanceof Sql) return value.text;
  if (value instanceof Identifier) return value.quoted;
  if (value instanceof SqlList) {
    if (value.values.length === 0) throw new SqlBuildError('an empty list cannot be put into IN (…)');
    return '(' + value.values.map(renderScalar).join(', ') + ')';
  }
  if (Array.isArray(value)) return '[' + value.map((v: SqlValue) => renderValue(v)).join(', ') + ']';
  return renderScalar(value as SqlScalar);
}

export interface SqlTag {
  (strings: TemplateStringsArray, ...values: SqlValue[]): Sql;
  /** Trusted constant text (never user input): SQL keywords chosen in code. */
  raw(text: string): Sql;
  /** Join fragments with a separator (`, ` by default). */
  join(parts: readonly Sql[], separator?: string): Sql;
  /** A list for `IN (…)`. */
  list(values: readonly SqlScalar[]): SqlList;
}

const tag = (strings: TemplateStringsArray, ...values: SqlValue[]): Sql => {
  let text = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) {
    text += renderValue(values[i] as SqlValue) + (strings[i + 1] ?? '');
  }
  return new Sql(text);
};

export const sql: SqlTag = Object.assign(tag, {
  raw: (text: string) => new Sql(text),
  join: (parts: readonly Sql[], separator = ', ') => new Sql(parts.map((p) => p.text).join(separator)),
  list: (values: readonly SqlScalar[]) => new SqlList(values),
});
