/**
 * The state machines in infra/, made runnable by aws-local-stepfunctions: CloudFormation's
 * DefinitionSubstitutions applied, the `lambda:invoke` integration's response shape around a
 * local handler, and (the library has no ItemReader, ResultWriter or failure tolerance) a
 * Distributed Map turned into an inline Map over items the test reads from S3 itself.
 */
import { readFileSync } from 'node:fs';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { RunOptions, StateMachineDefinition } from 'aws-local-stepfunctions';

type Json = Record<string, unknown>;
type TaskHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;
/** What aws-local-stepfunctions calls in place of a Task state's resource. */
export type LocalTaskHandler = TaskHandlers[string];

/** The state machines in infra/. */
export const STATE_MACHINES = ['enrich-call', 'backfill'] as const;

/** A definition as the .asl.json file holds it (a fresh copy each time: validators mutate). */
export function loadDefinition(name: (typeof STATE_MACHINES)[number]): StateMachineDefinition {
  const url = new URL(`../../infra/${name}.asl.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as StateMachineDefinition;
}

const PLACEHOLDER = /\$\{([A-Za-z0-9_.:]+)\}/g;

/** Every `${Name}` placeholder in string values, as CloudFormation's DefinitionSubstitutions sees them. */
export function placeholdersOf(value: unknown, found = new Set<string>()): Set<string> {
  if (typeof value === 'string')
    for (const match of value.matchAll(PLACEHOLDER)) found.add(match[1] as string);
  else if (Array.isArray(value)) for (const item of value) placeholdersOf(item, found);
  else if (value && typeof value === 'object')
    for (const item of Object.values(value)) placeholdersOf(item, found);
  return found;
}

/** Replaces `${Name}` in string values, like DefinitionSubstitutions; an unknown name throws. */
export function substitute<T>(value: T, values: Readonly<Record<string, string>>): T {
  const replace = (item: unknown): unknown => {
    if (typeof item === 'string') {
      return item.replace(PLACEHOLDER, (_, name: string) => {
        const replacement = values[name];
        if (replacement === undefined) throw new Error(`no substitution for \${${name}}`);
        return replacement;
      });
    }
    if (Array.isArray(item)) return item.map(replace);
    if (item && typeof item === 'object') {
      return Object.fromEntries(Object.entries(item).map(([key, inner]) => [key, replace(inner)]));
    }
    return item;
  };
  return replace(value) as T;
}

/**
 * A Task handler shaped like `arn:aws:states:::lambda:invoke`: it receives the state's
 * Parameters (`FunctionName`, `Payload`), refuses any other function, and answers with the
 * integration's `{ Payload, StatusCode, ExecutedVersion }`. A thrown error keeps its `name`,
 * which is what Step Functions matches in Retry and Catch.
 */
export function lambdaInvokeTask(
  functionArn: string,
  handler: (event: unknown) => Promise<unknown>,
): LocalTaskHandler {
  return async (input) => {
    const { FunctionName, Payload } = (input ?? {}) as { FunctionName?: unknown; Payload?: unknown };
    if (FunctionName !== functionArn) throw new Error(`the task invoked ${String(FunctionName)}`);
    const result = await handler(Payload);
    return { ExecutedVersion: '$LATEST', Payload: result, StatusCode: 200 } as Awaited<
      ReturnType<LocalTaskHandler>
    >;
  };
}

/** A Distributed Map's ItemReader configuration (JSONPath flavour). */
export interface ItemReader {
  Resource: string;
  ReaderConfig?: { InputType?: string };
  Parameters: Json;
}

/**
 * The definition with Map state `stateName` made inline: ItemReader becomes `ItemsPath: $.items`,
 * and what only the distributed mode knows (ResultWriter, failure tolerance, label) is dropped.
 * ItemSelector, MaxConcurrency and the ItemProcessor's states are kept as they are.
 */
export function inlineDistributedMap(
  definition: StateMachineDefinition,
  stateName: string,
): { definition: StateMachineDefinition; itemReader: ItemReader } {
  const copy = structuredClone(definition) as unknown as { States: Record<string, Json> };
  const state = copy.States[stateName];
  if (state?.Type !== 'Map') throw new Error(`${stateName} is not a Map state`);
  const {
    ItemReader: itemReader,
    ResultWriter: _resultWriter,
    ToleratedFailurePercentage: _percentage,
    ToleratedFailureCount: _count,
    Label: _label,
    ...inline
  } = state;
  if (!itemReader) throw new Error(`${stateName} has no ItemReader`);
  const processor = inline.ItemProcessor as Json;
  copy.States[stateName] = {
    ...inline,
    ItemsPath: '$.items',
    ItemProcessor: { ...processor, ProcessorConfig: { Mode: 'INLINE' } },
  };
  return { definition: copy as unknown as StateMachineDefinition, itemReader: itemReader as ItemReader };
}

/**
 * What the ItemReader would hand the Map: the S3 object named by its Parameters (a literal
 * `Bucket`, and `Key` or `Key.$` as a top-level `$.field` of the input), parsed as JSON Lines.
 */
export async function readItems(itemReader: ItemReader, input: Json, s3: S3Client): Promise<unknown[]> {
  if (
    itemReader.Resource !== 'arn:aws:states:::s3:getObject' ||
    itemReader.ReaderConfig?.InputType !== 'JSONL'
  ) {
    throw new Error('only JSON Lines objects read with s3:getObject are emulated');
  }
  const parameter = (name: string): string => {
    const literal = itemReader.Parameters[name];
    if (typeof literal === 'string') return literal;
    const path = itemReader.Parameters[`${name}.$`];
    const field = typeof path === 'string' ? /^\$\.([A-Za-z0-9_]+)$/.exec(path)?.[1] : undefined;
    const value = field === undefined ? undefined : input[field];
    if (typeof value !== 'string') throw new Error(`ItemReader ${name} does not resolve to a string`);
    return value;
  };
  const object = await s3.send(new GetObjectCommand({ Bucket: parameter('Bucket'), Key: parameter('Key') }));
  const text = (await object.Body?.transformToString('utf8')) ?? '';
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as unknown);
}
