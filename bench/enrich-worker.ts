/**
 * The client side of the enrichment benchmark, in its own process (bundled like a Lambda) so
 * that `process.cpuUsage()` counts the enrichment's CPU and not dynalite's, s3rver's or the
 * simulator's, which run in the parent. Reads one JSON command per stdin line, answers one JSON
 * line per command on stdout.
 */
import { createInterface } from 'node:readline';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { enrichDependenciesFromEnv } from '../lib/enrich/dependencies.ts';
import { enrichCall } from '../lib/enrich/enrich.ts';

/** A command: run `ids` through one phase. */
export interface EnrichCommand {
  /** `enrich`: the use case; `floor`: one Get Call + one Query per id, nothing else. */
  phase: 'enrich' | 'floor';
  ids: string[];
}

/** The answer to a command. */
export interface EnrichAnswer {
  wallMs: number;
  cpuMs: number;
  calls: number;
  /** Recordings copied (bytes downloaded) during the phase. */
  copiedBytes: number;
  /** Peak RSS of the worker so far, KiB. */
  maxRssKiB: number;
}

const deps = enrichDependenciesFromEnv();
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const table = process.env.CALLS_TABLE as string;
const baseUrl = process.env.COMETCHAT_BASE_URL as string;
const apiKey = process.env.COMETCHAT_API_KEY as string;

async function floorOnce(sessionId: string): Promise<void> {
  const response = await fetch(`${baseUrl}/calls/${encodeURIComponent(sessionId)}`, {
    headers: { apikey: apiKey, accept: 'application/json' },
  });
  if (!response.ok) throw new Error(`Get Call answered ${response.status}`);
  await response.json();
  await documents.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `CALL#${sessionId}` },
    }),
  );
}

async function run(command: EnrichCommand): Promise<EnrichAnswer> {
  let copiedBytes = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (const sessionId of command.ids) {
    if (command.phase === 'floor') {
      await floorOnce(sessionId);
    } else {
      const result = await enrichCall({ sessionId }, deps);
      for (const recording of result.recordings) if (recording.copied) copiedBytes += recording.bytes;
    }
  }
  const wallMs = performance.now() - started;
  const { user, system } = process.cpuUsage(cpu);
  return {
    wallMs,
    cpuMs: (user + system) / 1000,
    calls: command.ids.length,
    copiedBytes,
    maxRssKiB: process.resourceUsage().maxRSS,
  };
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const command = JSON.parse(line) as EnrichCommand | { phase: 'exit' };
  if (command.phase === 'exit') {
    // Keep-alive sockets of the use case's own clients would hold the process open.
    process.exit(0);
  }
  run(command).then(
    (answer) => process.stdout.write(`${JSON.stringify(answer)}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
});
