/** Reading back what the archive stored, straight from the table. */
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';

/** Every item of one call's partition (`pk = CALL#<sessionId>`): the call, its participants and recordings. */
export async function callItems(
  documents: DynamoDBDocumentClient,
  tableName: string,
  sessionId: string,
): Promise<Record<string, unknown>[]> {
  const { Items = [] } = await documents.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `CALL#${sessionId}` },
    }),
  );
  return Items;
}
