/**
 * `npm start`: the main job, locally, with no AWS account and no setup.
 *
 *   npm start                      enrich every sample call (or, with real CometChat credentials,
 *                                  the most recent page of real calls) and print a summary
 *   npm start -- <sessionId…>      enrich just those calls
 *   npm start -- --serve           then keep serving the webhook (the default in a terminal)
 *
 * DynamoDB (dynalite) and S3 (s3rver) run in-process and keep their data in `.local/` between
 * runs. Without COMETCHAT_APP_ID / COMETCHAT_REGION / COMETCHAT_API_KEY (environment or `.env`),
 * a CometChat simulator serves realistic calls and recordings over HTTP.
 */
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import type { EventSink } from '../lib/events/archive-events.ts';
import { createFileEventSink } from '../lib/events/file-sink.ts';
import { hasCometChatCredentials, loadDotEnv, pickCometChatEnv, ROOT, startOfUtcDay } from './cli-support.ts';
import { localEnricher, type Row, renderRows, rowOf } from './enrich-locally.ts';
import { type LocalPipeline, startLocalPipeline } from './local-pipeline.ts';
import { type LocalStack, startLocalStack } from './local-stack.ts';
import type { CometChatSimulator } from './simulator/index.ts';
import { sampleCalls } from './simulator/sample-calls.ts';
import { fireWebhook } from './webhook-sender.ts';

/** The local webhook's credentials unless WEBHOOK_BASIC_AUTH says otherwise (it listens on loopback only). */
const LOCAL_WEBHOOK_AUTH = 'local:localsecret';
const USAGE = `Usage: npm start [-- [--data-dir DIR] [--serve | --once] [--port N] [sessionId…]]

Enriches CometChat calls into a local DynamoDB + S3 and prints what was stored.
With no session ids: the simulator's sample calls, or with real CometChat credentials
(COMETCHAT_APP_ID, COMETCHAT_REGION, COMETCHAT_API_KEY in the environment or .env), the most
recent page of real calls.

Then, in a terminal (or with --serve), it keeps serving the webhook at
http://localhost:<port>/webhooks/cometchat with the real webhook and enrich handlers behind it,
until Ctrl-C. --once exits after the summary (the default when not in a terminal).`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string' },
      serve: { type: 'boolean' },
      once: { type: 'boolean' },
      port: { type: 'string', default: '8787' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  loadDotEnv();
  const real = hasCometChatCredentials(process.env);
  const dataDir = values['data-dir'] ?? join(ROOT, '.local');
  const serve = values.serve === true || (values.once !== true && process.stdout.isTTY === true);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port must be a port number\n\n${USAGE}`);
    return 2;
  }
  // Local runs log at WARN unless told otherwise: the summary below is the output that matters.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

  const stack = await startLocalStack({
    dataDir,
    ...(real
      ? { simulator: false as const, cometChatEnv: pickCometChatEnv(process.env) }
      : { simulator: { calls: sampleCalls(startOfUtcDay()) } }),
  });
  try {
    stack.applyEnv();
    console.log(
      real
        ? `CometChat: app ${stack.env.COMETCHAT_APP_ID} (${stack.env.COMETCHAT_REGION}), real API`
        : `CometChat: simulator at ${stack.simulator?.baseUrl} (no credentials configured)`,
    );
    console.log(
      `Local stack: table ${stack.tableName}, bucket ${stack.bucket}, data in ${relative(process.cwd(), dataDir) || '.'}`,
    );
    const pipeline = serve
      ? await startLocalPipeline(stack, {
          port,
          basicAuth: process.env.WEBHOOK_BASIC_AUTH ?? LOCAL_WEBHOOK_AUTH,
        })
      : undefined;
    const sessionIds = positionals.length > 0 ? positionals : await defaultSessionIds(stack, real);
    // The events a deployed stack would send to its bus, as JSON lines.
    const eventsFile = join(dataDir, 'events.jsonl');
    const events = countingSink(createFileEventSink(eventsFile));
    const rows = sessionIds.length > 0 ? await enrichAll(stack, sessionIds, events.sink) : [];
    if (rows.length > 0) printSummary(rows, stack, dataDir);
    else console.log('No calls to enrich.');
    console.log(
      `Events: ${events.count()} written to ${relative(process.cwd(), eventsFile)} (what EVENT_BUS_NAME's bus would receive).`,
    );
    const code = rows.some((r) => !r.ok) ? 1 : 0;
    if (pipeline) await serveWebhook(pipeline, stack);
    return code;
  } finally {
    await stack.close();
  }
}

/** Serves the webhook until Ctrl-C; with the simulator, fires one call_ended to show the path. */
async function serveWebhook(pipeline: LocalPipeline, stack: LocalStack): Promise<void> {
  const [user, password] = pipeline.basicAuth.split(':');
  console.log(`\nWebhook: POST ${pipeline.webhookUrl} (Basic auth ${user}:${password})`);
  console.log(
    `  curl -u '${pipeline.basicAuth}' -H 'content-type: application/json' ${pipeline.webhookUrl} \\\n` +
      `    -d '{"trigger":"call_ended","appId":"${stack.env.COMETCHAT_APP_ID}","region":"${stack.env.COMETCHAT_REGION}",` +
      `"webhook":"local","data":{"sessionId":"<sessionId>","destroyed_at":${Math.floor(Date.now() / 1000)}}}'`,
  );
  if (stack.simulator) {
    const demo = demoCall(stack.simulator);
    const answer = await fireWebhook(pipeline.webhookUrl, 'call_ended', demo, pipeline.basicAuth, {
      appId: stack.simulator.appId,
      region: stack.simulator.region,
    });
    await pipeline.drained();
    console.log(
      `Simulator fired call_ended for ${demo}: ${answer.status} ${JSON.stringify(answer.body)}; enriched.`,
    );
  }
  console.log('Serving; Ctrl-C to stop.');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await pipeline.close();
}

/** Adds a fresh ended call to the simulator (a copy of the first sample) and returns its id. */
function demoCall(simulator: CometChatSimulator): string {
  const [first] = sampleCalls();
  if (!first) throw new Error('no sample calls');
  const sessionId = `${String(first.raw.sessionId)}-webhook-${Date.now().toString(36)}`;
  simulator.addCall({ ...first, raw: { ...first.raw, sessionId } });
  return sessionId;
}

async function defaultSessionIds(stack: LocalStack, real: boolean): Promise<string[]> {
  if (!real) return stack.simulator?.sessionIds() ?? [];
  const { createCometChatClient } = await import('../lib/cometchat/client.ts');
  const { readCometChatConfig } = await import('../lib/config.ts');
  const { secretProvider } = await import('../lib/secrets.ts');
  const config = readCometChatConfig();
  const client = createCometChatClient({
    baseUrl: config.baseUrl,
    apiKey: secretProvider(config.apiKey, 'CometChat API key'),
  });
  const { calls } = await client.listCalls({ page: 1, perPage: 25 });
  return calls.map((c) => c.sessionId).filter((id): id is string => typeof id === 'string');
}

/** `sink`, counting the events it took. */
function countingSink(sink: EventSink): { sink: EventSink; count: () => number } {
  let taken = 0;
  return {
    sink: {
      async put(events, options) {
        await sink.put(events, options);
        taken += events.length;
      },
    },
    count: () => taken,
  };
}

async function enrichAll(
  stack: LocalStack,
  sessionIds: readonly string[],
  events: EventSink,
): Promise<Row[]> {
  const enrichOne = await localEnricher(stack, { events });
  const rows: Row[] = [];
  for (const sessionId of sessionIds) rows.push(rowOf(sessionId, await enrichOne(sessionId)));
  return rows;
}

function printSummary(rows: readonly Row[], stack: LocalStack, dataDir: string): void {
  console.log(`\n${renderRows(rows)}`);
  console.log(
    `Stored in table "${stack.tableName}"; files under ` +
      `${join(relative(process.cwd(), dataDir) || '.', 's3', stack.bucket, 'recordings')}/ ` +
      `(s3://${stack.bucket}/recordings/<sessionId>/: <rid>.<ext>, transcripts/<tid>.<ext> and the manifest call.json).`,
  );
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const { name, message } = error as Error;
    console.error(`npm start failed: ${name}: ${message}`);
    process.exitCode = 3;
  },
);
