/**
 * SSM has no maintained emulator, so the SSM client is mocked at the SDK boundary; Powertools
 * Parameters itself runs for real. Powertools keeps its own module-level cache, so every test
 * reads a parameter name no other test uses.
 */
import { randomUUID } from 'node:crypto';
import { GetParameterCommand, ParameterNotFound, SSMClient, SSMServiceException } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { CometChatAuthError, StorageError } from '../../lib/errors.ts';
import { secretProvider } from '../../lib/secrets.ts';
import { rejectionOf } from '../support/errors.ts';

const ssm = mockClient(SSMClient);
const SECRET = 'ssm-secret-value-7d1f';

function parameterName(): string {
  return `/test/secrets/${randomUUID()}`;
}

function parameter(value: string | undefined) {
  return { Parameter: { Name: 'ignored', Type: 'SecureString' as const, Value: value } };
}

function notFound(): ParameterNotFound {
  return new ParameterNotFound({ message: 'Parameter not found.', $metadata: { httpStatusCode: 400 } });
}

beforeEach(() => {
  ssm.reset();
});

afterAll(() => {
  ssm.restore();
});

describe('secretProvider', () => {
  it('returns a literal value without touching SSM', async () => {
    const provider = secretProvider({ value: 'literal-key' }, 'CometChat API key');

    expect(await provider()).toBe('literal-key');
    expect(await provider()).toBe('literal-key');
    expect(ssm.calls()).toHaveLength(0);
  });

  it('reads the parameter decrypted, once, however many calls ask (concurrently or not)', async () => {
    const name = parameterName();
    ssm.on(GetParameterCommand).resolves(parameter(SECRET));
    const provider = secretProvider({ parameterName: name }, 'CometChat API key');

    const concurrent = await Promise.all([provider(), provider(), provider(), provider()]);
    const later = [await provider(), await provider()];

    expect([...concurrent, ...later]).toEqual(Array(6).fill(SECRET));
    const calls = ssm.commandCalls(GetParameterCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({ Name: name, WithDecryption: true });
  });

  it('does not cache a failed read: the next call tries again', async () => {
    const name = parameterName();
    ssm.on(GetParameterCommand).rejectsOnce(new Error('socket hang up')).resolves(parameter(SECRET));
    const provider = secretProvider({ parameterName: name }, 'CometChat API key');

    const first = await rejectionOf(provider());
    const second = await provider();

    expect(first).toBeInstanceOf(StorageError);
    expect(second).toBe(SECRET);
    expect(await provider()).toBe(SECRET);
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(2);
  });

  it('throws CometChatAuthError naming the parameter when it does not exist', async () => {
    const name = parameterName();
    ssm.on(GetParameterCommand).rejects(notFound());
    const provider = secretProvider({ parameterName: name }, 'CometChat API key');

    const error = await rejectionOf(provider());

    expect(error).toBeInstanceOf(CometChatAuthError);
    expect(error.name).toBe('CometChatAuthError');
    expect(error.message).toContain(name);
    expect(error.message).toContain('CometChat API key');
  });

  it('throws the error the `missing` factory builds when the parameter does not exist', async () => {
    class MissingCredentials extends Error {}
    const name = parameterName();
    ssm.on(GetParameterCommand).rejects(notFound());
    const provider = secretProvider({ parameterName: name }, 'webhook credentials', (message) => {
      return new MissingCredentials(message);
    });

    const error = await rejectionOf(provider());

    expect(error).toBeInstanceOf(MissingCredentials);
    expect(error.message).toContain(name);
    expect(error.message).toContain('webhook credentials');
  });

  it.each(['', undefined])('treats a parameter value of %j as missing', async (value) => {
    const name = parameterName();
    ssm.on(GetParameterCommand).resolves(parameter(value));
    const provider = secretProvider({ parameterName: name }, 'CometChat API key');

    const error = await rejectionOf(provider());

    expect(error).toBeInstanceOf(CometChatAuthError);
    expect(error.message).toContain(name);
  });

  it('turns any other SDK failure into a StorageError that keeps the cause', async () => {
    const name = parameterName();
    const throttled = new SSMServiceException({
      name: 'ThrottlingException',
      $fault: 'client',
      message: 'Rate exceeded',
      $metadata: { httpStatusCode: 400 },
    });
    ssm.on(GetParameterCommand).rejects(throttled);
    const provider = secretProvider({ parameterName: name }, 'CometChat API key');

    const error = await rejectionOf(provider());

    expect(error).toBeInstanceOf(StorageError);
    expect(error.name).toBe('StorageError');
    expect(error.message).toContain(name);
    // Powertools wraps the SDK error; the SDK's own exception is still reachable through the causes.
    const causes: unknown[] = [];
    for (let cause: unknown = error.cause; cause instanceof Error; cause = cause.cause) causes.push(cause);
    expect(causes).toContain(throttled);
  });

  it('keeps providers for different parameters apart', async () => {
    const first = parameterName();
    const second = parameterName();
    ssm.on(GetParameterCommand, { Name: first }).resolves(parameter('first-value'));
    ssm.on(GetParameterCommand, { Name: second }).resolves(parameter('second-value'));

    const values = await Promise.all([
      secretProvider({ parameterName: first }, 'first')(),
      secretProvider({ parameterName: second }, 'second')(),
    ]);

    expect(values).toEqual(['first-value', 'second-value']);
  });
});
