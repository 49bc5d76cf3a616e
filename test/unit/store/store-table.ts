/** A dynalite holding one call table, and a store over it: what every store test starts from. */
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ensureTable, localClients, startDynalite } from '../../../dev/local-aws.ts';
import { type CallStore, createCallStore } from '../../../lib/store/call-store.ts';

/** A running table; `close()` stops dynalite. */
export interface StoreTable {
  /** A document client that leaves undefined attributes out, as the deployed store's does. */
  client: DynamoDBDocumentClient;
  store: CallStore;
  close(): Promise<void>;
}

/** Starts dynalite on an ephemeral port and creates `tableName` in it. */
export async function startStoreTable(tableName: string): Promise<StoreTable> {
  const dynalite = await startDynalite();
  // The store tests need no S3: the unused client points at a closed port and is let go at once.
  const clients = localClients({ dynamodb: dynalite.endpoint, s3: 'http://127.0.0.1:9' });
  clients.s3.destroy();
  const raw = clients.dynamodb;
  await ensureTable(raw, tableName);
  const client = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  return {
    client,
    store: createCallStore({ tableName, client }),
    close: async () => {
      raw.destroy();
      await dynalite.close();
    },
  };
}
