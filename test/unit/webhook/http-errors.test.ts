import { describe, expect, it } from 'vitest';
import { InvalidInputError, StorageError } from '../../../lib/errors.ts';
import {
  ForeignAppError,
  MalformedWebhookError,
  MethodNotAllowedError,
  PayloadTooLargeError,
  WebhookAuthError,
} from '../../../lib/webhook/errors.ts';
import { errorResponse, httpStatusOf } from '../../../lib/webhook/http-errors.ts';

describe('httpStatusOf', () => {
  it.each([
    [new MalformedWebhookError('m'), 400],
    [new InvalidInputError('m'), 400],
    [new WebhookAuthError('m'), 401],
    [new ForeignAppError('m'), 403],
    [new MethodNotAllowedError('m'), 405],
    [new PayloadTooLargeError('m'), 413],
    [new StorageError('m'), 503],
    [new Error('m'), 500],
    ['a string', 500],
    [undefined, 500],
  ])('maps %o to %i', (error, status) => {
    expect(httpStatusOf(error)).toBe(status);
  });

  it('maps by name, so a copy of the class from another bundle maps the same', () => {
    const copy = Object.assign(new Error('m'), { name: 'ForeignAppError' });

    expect(httpStatusOf(copy)).toBe(403);
  });
});

describe('errorResponse', () => {
  it('asks for Basic credentials on 401 and says nothing else', () => {
    const response = errorResponse(new WebhookAuthError('wrong or malformed Basic credentials'));

    expect(response.statusCode).toBe(401);
    expect(response.headers).toMatchObject({ 'www-authenticate': 'Basic realm="cometchat-webhooks"' });
    expect(JSON.parse(response.body ?? '')).toEqual({ message: 'Unauthorized' });
  });

  it('explains a 400 to the (authenticated) sender', () => {
    const response = errorResponse(new MalformedWebhookError('the body is not valid JSON'));

    expect(JSON.parse(response.body ?? '')).toEqual({
      message: 'Bad Request',
      reason: 'the body is not valid JSON',
    });
    expect(response.headers).toMatchObject({ 'content-type': 'application/json' });
  });

  it('does not explain a 403', () => {
    expect(JSON.parse(errorResponse(new ForeignAppError('details')).body ?? '')).toEqual({
      message: 'Forbidden',
    });
  });

  it('keeps server-side details out of a 5xx', () => {
    const response = errorResponse(new StorageError('queue https://sqs.example/123/q.fifo unreachable'));

    expect(response.statusCode).toBe(503);
    expect(response.body).toBe('{"message":"Service Unavailable"}');
  });

  it('names the allowed method on 405', () => {
    expect(errorResponse(new MethodNotAllowedError('m')).headers).toMatchObject({ allow: 'POST' });
  });
});
