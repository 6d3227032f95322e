/**
 * The case writes of store/cases.ts on a mocked DocumentClient. A write that changes no
 * funnel counter is a plain UpdateItem (PutItem when it creates the case); one that does
 * is a TransactWriteItems of that write and an `ADD` on its district's counter item
 * (FUNNEL#<year> / DISTRICT#<district>). Tests read the case's write here whichever way it
 * went, and answer it the way DynamoDB does.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClientResolvedConfig,
  PutCommand,
  type PutCommandInput,
  type ServiceInputTypes,
  type ServiceOutputTypes,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { AwsStub } from 'aws-sdk-client-mock';
import type { FunnelCounters } from '#domain/funnel';

export type DocumentMock = AwsStub<ServiceInputTypes, ServiceOutputTypes, DynamoDBDocumentClientResolvedConfig>;

type Key = Record<string, unknown> | undefined;
const isCaseKey = (key: Key) => String(key?.pk).startsWith('CASE#');
const isCounterKey = (key: Key) => String(key?.pk).startsWith('FUNNEL#');

/** One write: a plain PutItem or UpdateItem, or one action of a transaction. */
type WriteAction = { Put?: PutCommandInput; Update?: UpdateCommandInput };

/** The actions of every write sent, in order: a plain write is one, a transaction its items. */
function actionsSent(ddb: DocumentMock): WriteAction[] {
  return ddb.calls().flatMap((call): WriteAction[] => {
    const command = call.args[0];
    if (command instanceof UpdateCommand) return [{ Update: command.input }];
    if (command instanceof PutCommand) return [{ Put: command.input }];
    if (command instanceof TransactWriteCommand) return command.input.TransactItems ?? [];
    return [];
  });
}

/** Every UpdateItem of a case sent, alone or in a transaction, in order (those refused included). */
export function caseWrites(ddb: DocumentMock): UpdateCommandInput[] {
  return actionsSent(ddb).flatMap((a) => (a.Update && isCaseKey(a.Update.Key) ? [a.Update] : []));
}

/** Every PutItem of a case sent (createCase), alone or in a transaction, in order. */
export function casePuts(ddb: DocumentMock): PutCommandInput[] {
  return actionsSent(ddb).flatMap((a) => (a.Put && isCaseKey(a.Put.Item) ? [a.Put] : []));
}

/** What an UpdateItem sets, attribute → value (its `SET #a = :v, …` read back through the names and values). */
export function setsOf(update: UpdateCommandInput): Record<string, unknown> {
  const set = /^SET (.+?)(?: REMOVE .*)?$/.exec(update.UpdateExpression ?? '')?.[1] ?? '';
  return Object.fromEntries(
    set.split(', ').map((assignment) => {
      const [name = '', value = ''] = assignment.split(' = ');
      return [update.ExpressionAttributeNames?.[name] ?? name, update.ExpressionAttributeValues?.[value]];
    }),
  );
}

/** The attributes an UpdateItem removes. */
export function removesOf(update: UpdateCommandInput): string[] {
  const remove = / REMOVE (.+)$/.exec(update.UpdateExpression ?? '')?.[1];
  return remove ? remove.split(', ').map((name) => update.ExpressionAttributeNames?.[name] ?? name) : [];
}

/** The counters' `ADD name :value, …` as name → value. */
function adds(update: UpdateCommandInput): FunnelCounters {
  const expression = /^ADD (.+)$/.exec(update.UpdateExpression ?? '');
  if (!expression?.[1]) throw new Error(`a counter update that is not one ADD: ${update.UpdateExpression}`);
  const delta: FunnelCounters = {};
  for (const clause of expression[1].split(', ')) {
    const [name = '', value = ''] = clause.split(' ');
    delta[update.ExpressionAttributeNames?.[name] ?? name] = Number(update.ExpressionAttributeValues?.[value]);
  }
  return delta;
}

/**
 * What the transactions that landed added to each counter item, `FUNNEL#<year>/DISTRICT#<district>`
 * → counter → sum (zeros left out). Async: a transaction the mock refused added nothing.
 */
export async function counterDeltas(ddb: DocumentMock): Promise<Record<string, FunnelCounters>> {
  const sums: Record<string, FunnelCounters> = {};
  for (const call of ddb.commandCalls(TransactWriteCommand)) {
    const landed = await Promise.resolve(call.returnValue).then(
      () => true,
      () => false,
    );
    if (!landed) continue;
    for (const { Update } of call.args[0].input.TransactItems ?? []) {
      if (!Update || !isCounterKey(Update.Key)) continue;
      const key = `${Update.Key?.pk}/${Update.Key?.sk}`;
      const item = sums[key] ?? {};
      sums[key] = item;
      for (const [name, by] of Object.entries(adds(Update))) {
        const value = (item[name] ?? 0) + by;
        if (value === 0) delete item[name];
        else item[name] = value;
      }
    }
  }
  return sums;
}

/** What DynamoDB answers a plain write whose condition failed. */
export const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

/** What DynamoDB answers a transaction it cancelled, one reason per action ('None' for those that were fine). */
export function transactionCanceled(...codes: string[]) {
  return new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(', ')}]`,
    $metadata: {},
    CancellationReasons: codes.map((Code) => (Code === 'None' ? { Code } : { Code, Message: 'The conditional request failed' })),
  });
}

const hasCaseAction = (input: TransactWriteCommandInput) =>
  (input.TransactItems ?? []).some((a) => isCaseKey(a.Update?.Key) || isCaseKey(a.Put?.Item));

/**
 * Answers the case's writes: the first `refused` of them fail their condition, as when
 * another write landed between the store's read and its write (ConditionalCheckFailed
 * alone; in a transaction, cancelled with [ConditionalCheckFailed, None]); the others land.
 * Other items' UpdateItems are left to the test.
 */
export function answerCaseWrites(ddb: DocumentMock, caseId: string, refused = 0): void {
  let seen = 0;
  const refuses = () => ++seen <= refused;
  ddb.on(UpdateCommand, { Key: { pk: `CASE#${caseId}`, sk: 'CASE' } }).callsFake(async () => {
    if (refuses()) throw conditionFailed();
    return {};
  });
  ddb.on(TransactWriteCommand).callsFake(async (input: TransactWriteCommandInput) => {
    if (hasCaseAction(input) && refuses()) throw transactionCanceled('ConditionalCheckFailed', 'None');
    return {};
  });
}

/** Every write of the case fails its condition (a case that keeps moving, or has moved on for good). */
export const refuseCaseWrites = (ddb: DocumentMock, caseId: string) => answerCaseWrites(ddb, caseId, Number.POSITIVE_INFINITY);

/**
 * Runs each transaction's case action through a test's own in-memory item write (which
 * throws ConditionalCheckFailedException when its condition fails), as DynamoDB would:
 * a failed condition cancels the whole transaction. The counter's ADD always holds; read
 * it with counterDeltas.
 */
export function transactThrough(ddb: DocumentMock, write: (action: WriteAction) => unknown): void {
  ddb.on(TransactWriteCommand).callsFake(async (input: TransactWriteCommandInput) => {
    const actions = input.TransactItems ?? [];
    for (const [i, action] of actions.entries()) {
      if (!isCaseKey(action.Update?.Key) && !isCaseKey(action.Put?.Item)) continue;
      try {
        await write(action);
      } catch (e) {
        if (!(e instanceof ConditionalCheckFailedException)) throw e;
        throw transactionCanceled(...actions.map((_, n) => (n === i ? 'ConditionalCheckFailed' : 'None')));
      }
    }
    return {};
  });
}
