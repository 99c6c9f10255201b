/** Structured logs (pino). Library code takes a child logger with a `module` field, never console.log. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level = 'info'): Logger {
  return pino({
    level,
    base: { service: 'sqm' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Tokens and cookies never reach the log.
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.token', '*.secret'], censor: '[redacted]' },
  });
}
