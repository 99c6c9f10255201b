/**
 * One catalogue of API errors: a stable code, an HTTP status and a message.
 * Every error response has the shape `{ "error": { "code", "message", "details"? } }`
 * and never carries a stack trace.
 */

export const ERRORS = {
  SQM_BAD_REQUEST: { status: 400, message: 'The request is not valid' },
  SQM_UNPARSEABLE_BODY: { status: 400, message: 'The request body cannot be parsed' },
  SQM_TOO_MANY_RECORDS: { status: 413, message: 'Too many records in one request' },
  SQM_BODY_TOO_LARGE: { status: 413, message: 'The request body is larger than the limit' },
  SQM_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Unsupported Content-Type' },
  SQM_UNAUTHORIZED: { status: 401, message: 'Authentication required: send Authorization: Bearer <token>, or log in' },
  SQM_LOGIN_FAILED: { status: 401, message: 'Wrong user name or password' },
  SQM_FORBIDDEN: { status: 403, message: 'Not allowed for this role or region' },
  SQM_CSRF: { status: 403, message: 'A browser request that changes something must carry the header X-SQM-Request: 1' },
  SQM_NOT_FOUND: { status: 404, message: 'Not found' },
  SQM_METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed' },
  SQM_CONFLICT: { status: 409, message: 'That conflicts with what exists' },
  SQM_RATE_LIMITED: { status: 429, message: 'Too many requests; retry later' },
  SQM_LOCKED_OUT: { status: 429, message: 'Too many failed logins; locked for a while' },
  SQM_UNAVAILABLE: { status: 503, message: 'The service cannot take this request right now; retry later' },
  SQM_STORE_ERROR: { status: 503, message: 'The store did not answer; retry later' },
  SQM_INTERNAL: { status: 500, message: 'Internal error' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export class ApiError extends Error {
  override name = 'ApiError';
  readonly statusCode: number;
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message ?? ERRORS[code].message);
    this.statusCode = ERRORS[code].status;
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

export function errorBody(error: ApiError): ErrorBody {
  return {
    error: {
      code: error.code,
      message: error.message,
      ...(error.details === undefined ? {} : { details: error.details }),
    },
  };
}

/** Map Fastify's own errors (by their FST_* codes) onto the catalogue. */
export function fromFastifyError(error: { code?: string; statusCode?: number; message: string; validation?: unknown }): ApiError | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError('SQM_BODY_TOO_LARGE');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError('SQM_UNSUPPORTED_MEDIA_TYPE');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ApiError('SQM_UNPARSEABLE_BODY', error.message);
    default:
      break;
  }
  if (error.validation) return new ApiError('SQM_BAD_REQUEST', error.message);
  if (error.statusCode === 400 && error instanceof SyntaxError) return new ApiError('SQM_UNPARSEABLE_BODY', error.message);
  if (error.statusCode === 413) return new ApiError('SQM_BODY_TOO_LARGE');
  if (error.statusCode === 415) return new ApiError('SQM_UNSUPPORTED_MEDIA_TYPE');
  return undefined;
}
