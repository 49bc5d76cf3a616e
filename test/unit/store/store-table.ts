/** A dynalite holding one call table, a counting proxy in front of it, and a store over the proxy. */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ensureTable, localClients, startDynalite } from '../../../dev/local-aws.ts';
import { createDocumentClient } from '../../../lib/aws/dynamodb.ts';
import { type CallStore, createCallStore } from '../../../lib/store/call-store.ts';
import { type CountingProxy, DYNAMODB_WRITES, startCountingProxy } from '../../support/counting-proxy.ts';

/** A running table; `close()` stops dynalite. */
export interface StoreTable {
  /** A document client straight to dynalite, for reading back and arranging. */
  client: DynamoDBDocumentClient;
  /** A document client through the proxy, so every request it sends is counted. */
  counted: DynamoDBDocumentClient;
  store: CallStore;
  proxy: CountingProxy;
  /** Write requests (PutItem, DeleteItem, BatchWriteItem…) the proxy saw while `act` ran. */
  writesDuring(act: () => Promise<unknown>): Promise<number>;
  close(): Promise<void>;
}

function clientsFor(endpoint: string) {
  // The store tests need no S3: the unused client points at a closed port and is let go at once.
  const clients = localClients({ dynamodb: endpoint, s3: 'http://127.0.0.1:9' });
  clients.s3.destroy();
  return clients.dynamodb;
}

/** Starts dynalite on an ephemeral port and creates `tableName` in it. */
export async function startStoreTable(tableName: string): Promise<StoreTable> {
  const dynalite = await startDynalite();
  const proxy = await startCountingProxy(dynalite.endpoint);
  const raw = clientsFor(dynalite.endpoint);
  const viaProxy = clientsFor(proxy.endpoint);
  await ensureTable(raw, tableName);
  const counted = createDocumentClient(viaProxy);
  return {
    client: createDocumentClient(raw),
    counted,
    store: createCallStore({ tableName, client: counted }),
    proxy,
    async writesDuring(act) {
      const before = proxy.count(...DYNAMODB_WRITES);
      await act();
      return proxy.count(...DYNAMODB_WRITES) - before;
    },
    close: async () => {
      raw.destroy();
      viaProxy.destroy();
      await proxy.close();
      await dynalite.close();
    },
  };
}
