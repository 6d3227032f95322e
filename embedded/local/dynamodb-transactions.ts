/**
 * TransactWriteItems and TransactGetItems for the local DynamoDB, which dynalite lacks.
 *
 * Nothing here re-implements DynamoDB's expression language: each action runs as the
 * single-item call dynalite already knows, on a copy of its item in a hidden shadow table
 * with the target table's keys and indexes. Only when every action passed are the new
 * images written to the real tables, after a redo journal on disk, so a crash half-way
 * leaves a transaction that the next start completes. The shadow and the apply both run
 * under the exclusive side of a gate that every single-item write passes on its shared
 * side: no write interleaves with a transaction, and plain writes still run side by side.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';

/** A table whose name starts so is the shadow of another: hidden from ListTables, refused when named. */
export const SHADOW_PREFIX = '__prokus_tx_shadow_';
export const isShadowTable = (name: unknown) => typeof name === 'string' && name.startsWith(SHADOW_PREFIX);

/** The journal's file in the dynalite data folder (LevelDB leaves files it does not name alone). */
export const journalPath = (dynamoDir: string) => join(dynamoDir, 'prokus-transaction.journal');

/** dynalite's answer to one call, or ours to the client: the HTTP status and the JSON body. */
export interface Reply {
  status: number;
  body: Record<string, unknown>;
}
/** One call to dynalite, in process, past the auth guard and the gate. */
export type DynamoCall = (operation: string, input: Record<string, unknown>) => Promise<Reply>;

/**
 * Where a test stops the process (kill -9) to show that the journal makes a transaction
 * whole: every action passed but nothing is on disk yet, the journal is, the nth write is.
 */
export type CommitPoint = 'evaluated' | 'journaled' | `applied-${number}`;
export interface TransactionHooks {
  at?: (point: CommitPoint) => void;
}

const SERVICE = 'com.amazonaws.dynamodb.v20120810';
const VALIDATION = 'com.amazon.coral.validate#ValidationException';
const IDEMPOTENCY_MS = 10 * 60_000;
/** The service's limits: 100 actions, 4 MB of items in all. */
const MAX_ACTIONS = 100;
const MAX_TRANSACTION_BYTES = 4 * 1024 * 1024;

const fault = (type: string, message: string, extra: Record<string, unknown> = {}): Reply => ({
  status: 400,
  body: { __type: type, ...extra, message },
});
const validation = (message: string) => fault(VALIDATION, message);
const typeOf = (reply: Reply) => String(reply.body.__type ?? '').split('#')[1] ?? '';

/**
 * Errors dynalite raises only after it read the item (an operand of the wrong type, an
 * attribute the item lacks, an item grown too big): the service answers those inside a
 * transaction as the action's `ValidationError` reason, the others fail the whole call.
 */
const ITEM_DEPENDENT = [
  'Item size to update has exceeded the maximum allowed size',
  'Type mismatch for attribute to update',
  'The document path provided in the update expression is invalid for update',
  'An operand in the update expression has an incorrect data type',
  'The update expression attempted to update the secondary index key to unsupported type',
  'The provided expression refers to an attribute that does not exist in the item',
];

const AttributeMap = z.record(z.string(), z.unknown());
const OnConditionFailure = z.enum(['ALL_OLD', 'NONE']).optional();
const common = {
  TableName: z.string(),
  ConditionExpression: z.string().optional(),
  ExpressionAttributeNames: z.record(z.string(), z.string()).optional(),
  ExpressionAttributeValues: AttributeMap.optional(),
  ReturnValuesOnConditionCheckFailure: OnConditionFailure,
};
const TransactItem = z.object({
  ConditionCheck: z.object({ ...common, Key: AttributeMap, ConditionExpression: z.string() }).optional(),
  Put: z.object({ ...common, Item: AttributeMap }).optional(),
  Delete: z.object({ ...common, Key: AttributeMap }).optional(),
  Update: z.object({ ...common, Key: AttributeMap, UpdateExpression: z.string() }).optional(),
});
const TransactWriteInput = z.object({
  TransactItems: z.array(TransactItem),
  ClientRequestToken: z.string().min(1).max(36).optional(),
  ReturnConsumedCapacity: z.enum(['INDEXES', 'TOTAL', 'NONE']).optional(),
  ReturnItemCollectionMetrics: z.enum(['SIZE', 'NONE']).optional(),
});
const TransactGetInput = z.object({
  TransactItems: z.array(
    z.object({
      Get: z.object({
        TableName: z.string(),
        Key: AttributeMap,
        ProjectionExpression: z.string().optional(),
        ExpressionAttributeNames: z.record(z.string(), z.string()).optional(),
      }),
    }),
  ),
  ReturnConsumedCapacity: z.enum(['INDEXES', 'TOTAL', 'NONE']).optional(),
});

/** One write the journal holds: the full new image, or none (a delete). Replaying it twice changes nothing. */
const JournalWrite = z.object({ TableName: z.string(), Key: AttributeMap, Item: AttributeMap.optional() });
type JournalWrite = z.infer<typeof JournalWrite>;
const Journal = z.object({
  token: z.string().optional(),
  fingerprint: z.string(),
  answer: z.record(z.string(), z.unknown()),
  writes: z.array(JournalWrite),
});
type Journal = z.infer<typeof Journal>;

type ActionKind = 'ConditionCheck' | 'Put' | 'Delete' | 'Update';
interface Action {
  kind: ActionKind;
  TableName: string;
  ConditionExpression?: string | undefined;
  ExpressionAttributeNames?: Record<string, string> | undefined;
  ExpressionAttributeValues?: Record<string, unknown> | undefined;
  ReturnValuesOnConditionCheckFailure?: 'ALL_OLD' | 'NONE' | undefined;
  Key?: Record<string, unknown>;
  Item?: Record<string, unknown>;
  UpdateExpression?: string;
}

/** What one action came to on the shadow copy. */
type Outcome =
  | { kind: 'passed'; write?: JournalWrite; capacity: number }
  | { kind: 'condition-failed'; old?: Record<string, unknown> | undefined }
  | { kind: 'invalid'; message: string };

interface TableShape {
  keyNames: string[];
  shadow: string;
}

/**
 * Shared for single-item writes (dynalite's own per-item lock orders those), exclusive for
 * a transaction. A transaction that waits lets no new shared holder in, so a stream of
 * plain writes cannot starve it.
 */
export class WriteGate {
  #shared = 0;
  #exclusive = false;
  readonly #waiting: { exclusive: boolean; go: () => void }[] = [];

  shared<T>(work: () => Promise<T>): Promise<T> {
    return this.#run(false, work);
  }

  exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.#run(true, work);
  }

  async #run<T>(exclusive: boolean, work: () => Promise<T>): Promise<T> {
    if (!this.#mayEnter(exclusive)) await new Promise<void>((go) => this.#waiting.push({ exclusive, go }));
    else this.#enter(exclusive);
    try {
      return await work();
    } finally {
      if (exclusive) this.#exclusive = false;
      else this.#shared--;
      this.#pump();
    }
  }

  #mayEnter(exclusive: boolean): boolean {
    return this.#waiting.length === 0 && !this.#exclusive && (!exclusive || this.#shared === 0);
  }

  #enter(exclusive: boolean): void {
    if (exclusive) this.#exclusive = true;
    else this.#shared++;
  }

  #pump(): void {
    for (;;) {
      const next = this.#waiting[0];
      if (!next || this.#exclusive || (next.exclusive && this.#shared > 0)) return;
      this.#waiting.shift();
      this.#enter(next.exclusive);
      next.go();
      if (next.exclusive) return;
    }
  }
}

/** JSON with sorted keys: the same request (or key) always gives the same text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function issuesText(error: z.ZodError): string {
  const issues = error.issues.map((i) => `Value at '${i.path.join('.')}' failed to satisfy constraint: ${i.message}`);
  return `${issues.length} validation error${issues.length === 1 ? '' : 's'} detected: ${issues.join('; ')}`;
}

function actionsOf(items: z.infer<typeof TransactItem>[]): Action[] | Reply {
  const actions: Action[] = [];
  for (const item of items) {
    const present = (['ConditionCheck', 'Put', 'Delete', 'Update'] as const).filter((k) => item[k] !== undefined);
    const kind = present[0];
    if (present.length !== 1 || !kind) return validation('TransactItems can only contain one of Check, Put, Update or Delete');
    const body = item[kind];
    if (!body) return validation('TransactItems can only contain one of Check, Put, Update or Delete');
    actions.push({ kind, ...body });
  }
  return actions;
}

/**
 * The transactions of one dynalite store. `call` reaches dynalite in process; every method
 * but `replay` expects to run inside the gate's exclusive side.
 */
export class Transactions {
  readonly #call: DynamoCall;
  readonly #journal: string;
  readonly #hooks: TransactionHooks;
  readonly #shapes = new Map<string, Promise<TableShape | Reply>>();
  readonly #answered = new Map<string, { fingerprint: string; at: number; answer: Record<string, unknown> }>();

  constructor(opts: { call: DynamoCall; journal: string; hooks?: TransactionHooks | undefined }) {
    this.#call = opts.call;
    this.#journal = opts.journal;
    this.#hooks = opts.hooks ?? {};
  }

  async transactWrite(raw: unknown): Promise<Reply> {
    const parsed = TransactWriteInput.safeParse(raw);
    if (!parsed.success) return validation(issuesText(parsed.error));
    const input = parsed.data;
    const count = input.TransactItems.length;
    if (count < 1 || count > MAX_ACTIONS) {
      const bound = count < 1 ? 'greater than or equal to 1' : `less than or equal to ${MAX_ACTIONS}`;
      return validation(
        `1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length ${bound}`,
      );
    }
    if (Buffer.byteLength(canonical(input.TransactItems)) > MAX_TRANSACTION_BYTES) {
      return validation('Transaction request cannot be larger than 4 MB');
    }
    const actions = actionsOf(input.TransactItems);
    if (!Array.isArray(actions)) return actions;

    const { ClientRequestToken: token, ...request } = input;
    const fingerprint = createHash('sha256').update(canonical(request)).digest('hex');
    if (token !== undefined) {
      const earlier = this.#remembered(token);
      if (earlier && earlier.fingerprint !== fingerprint) {
        return fault(
          `${SERVICE}#IdempotentParameterMismatchException`,
          'Request with the same client token but different parameters was already accepted',
        );
      }
      if (earlier) return { status: 200, body: earlier.answer };
    }

    const shapes: TableShape[] = [];
    const seen = new Set<string>();
    for (const action of actions) {
      const shape = await this.#shape(action.TableName);
      if ('status' in shape) return shape;
      shapes.push(shape);
      const key = action.Key ?? pick(action.Item ?? {}, shape.keyNames);
      const identity = canonical([action.TableName, key]);
      if (seen.has(identity)) return validation('Transaction request cannot include multiple operations on one item');
      seen.add(identity);
    }

    const outcomes: Outcome[] = [];
    for (const [i, action] of actions.entries()) {
      const shape = shapes[i];
      if (!shape) throw new Error('a transaction action lost its table');
      const outcome = await this.#evaluate(action, shape, input.ReturnConsumedCapacity !== undefined);
      if ('status' in outcome) return outcome;
      outcomes.push(outcome);
    }

    if (outcomes.some((o) => o.kind !== 'passed')) return canceled(outcomes);

    const answer: Record<string, unknown> = {};
    const capacity = consumed(actions, outcomes, input.ReturnConsumedCapacity);
    if (capacity) answer.ConsumedCapacity = capacity;
    const writes = outcomes.flatMap((o) => (o.kind === 'passed' && o.write ? [o.write] : []));
    await this.#commit({ token, fingerprint, answer, writes });
    return { status: 200, body: answer };
  }

  async transactGet(raw: unknown): Promise<Reply> {
    const parsed = TransactGetInput.safeParse(raw);
    if (!parsed.success) return validation(issuesText(parsed.error));
    const gets = parsed.data.TransactItems.map((t) => t.Get);
    if (gets.length < 1 || gets.length > MAX_ACTIONS) {
      const bound = gets.length < 1 ? 'greater than or equal to 1' : `less than or equal to ${MAX_ACTIONS}`;
      return validation(
        `1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length ${bound}`,
      );
    }
    const seen = new Set<string>();
    for (const get of gets) {
      const identity = canonical([get.TableName, get.Key]);
      if (seen.has(identity)) return validation('Transaction request cannot include multiple operations on one item');
      seen.add(identity);
    }
    const responses: Record<string, unknown>[] = [];
    const units = new Map<string, number>();
    for (const get of gets) {
      const reply = await this.#call('GetItem', { ...get, ConsistentRead: true, ReturnConsumedCapacity: 'TOTAL' });
      if (reply.status !== 200) return reply;
      responses.push(reply.body.Item ? { Item: reply.body.Item } : {});
      // A transactional read costs twice a consistent one.
      units.set(get.TableName, (units.get(get.TableName) ?? 0) + 2 * capacityOf(reply));
    }
    const body: Record<string, unknown> = { Responses: responses };
    const mode = parsed.data.ReturnConsumedCapacity;
    if (mode === 'TOTAL' || mode === 'INDEXES') {
      body.ConsumedCapacity = [...units].map(([TableName, CapacityUnits]) => ({
        TableName,
        CapacityUnits,
        ReadCapacityUnits: CapacityUnits,
        ...(mode === 'INDEXES' ? { Table: { CapacityUnits, ReadCapacityUnits: CapacityUnits } } : {}),
      }));
    }
    return { status: 200, body };
  }

  /** At start, before any client: completes a transaction whose journal survived a crash. */
  async replay(): Promise<void> {
    await unlink(`${this.#journal}.tmp`).catch(ignoreMissing);
    let text: string;
    try {
      text = await readFile(this.#journal, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    const parsed = Journal.safeParse(safeJson(text));
    if (!parsed.success) {
      throw new Error(
        `Jurnal transaksi DynamoDB lokal rusak (${this.#journal}) / The local DynamoDB transaction journal is damaged (${this.#journal})`,
      );
    }
    await this.#apply(parsed.data.writes);
    await unlink(this.#journal);
    if (parsed.data.token !== undefined) this.#remember(parsed.data.token, parsed.data.fingerprint, parsed.data.answer);
  }

  #remembered(token: string) {
    const earlier = this.#answered.get(token);
    if (earlier && Date.now() - earlier.at > IDEMPOTENCY_MS) {
      this.#answered.delete(token);
      return undefined;
    }
    return earlier;
  }

  #remember(token: string, fingerprint: string, answer: Record<string, unknown>): void {
    const now = Date.now();
    // Insertion order is age order: the expired ones are at the front.
    for (const [old, record] of this.#answered) {
      if (now - record.at <= IDEMPOTENCY_MS) break;
      this.#answered.delete(old);
    }
    this.#answered.set(token, { fingerprint, at: now, answer });
  }

  /** The table's key names and its shadow, made on first use with the same keys and indexes. */
  #shape(tableName: string): Promise<TableShape | Reply> {
    if (isShadowTable(tableName)) return Promise.resolve(shadowNamed());
    let shape = this.#shapes.get(tableName);
    if (!shape) {
      shape = this.#makeShape(tableName);
      this.#shapes.set(tableName, shape);
      // A table that is not there (yet) is asked about again next time.
      void shape.then((s) => 'status' in s && this.#shapes.delete(tableName));
    }
    return shape;
  }

  async #makeShape(tableName: string): Promise<TableShape | Reply> {
    const described = await this.#call('DescribeTable', { TableName: tableName });
    if (described.status !== 200) return described;
    const table = TableDescription.parse(described.body.Table);
    const definition = {
      AttributeDefinitions: table.AttributeDefinitions,
      KeySchema: table.KeySchema,
      ...(table.GlobalSecondaryIndexes?.length
        ? {
            GlobalSecondaryIndexes: table.GlobalSecondaryIndexes.map(({ IndexName, KeySchema, Projection }) => ({
              IndexName,
              KeySchema,
              Projection,
            })),
          }
        : {}),
      ...(table.LocalSecondaryIndexes?.length
        ? {
            LocalSecondaryIndexes: table.LocalSecondaryIndexes.map(({ IndexName, KeySchema, Projection }) => ({
              IndexName,
              KeySchema,
              Projection,
            })),
          }
        : {}),
    };
    // Named by the definition: a table dropped and made again with other keys gets a new shadow.
    const shadow = `${SHADOW_PREFIX}${createHash('sha256').update(canonical(definition)).digest('hex').slice(0, 32)}`;
    const created = await this.#call('CreateTable', { TableName: shadow, BillingMode: 'PAY_PER_REQUEST', ...definition });
    if (created.status !== 200 && typeOf(created) !== 'ResourceInUseException') return created;
    await this.#waitActive(shadow);
    return { keyNames: table.KeySchema.map((k) => k.AttributeName), shadow };
  }

  async #waitActive(tableName: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const reply = await this.#call('DescribeTable', { TableName: tableName });
      const table = TableDescription.safeParse(reply.body.Table);
      if (
        table.success &&
        table.data.TableStatus === 'ACTIVE' &&
        (table.data.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === 'ACTIVE')
      )
        return;
      if (Date.now() > deadline) throw new Error(`shadow table ${tableName} did not become ACTIVE`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Runs one action on a copy of its item; a Reply fails the whole call. */
  async #evaluate(action: Action, shape: TableShape, withCapacity: boolean): Promise<Outcome | Reply> {
    const key = action.Key ?? pick(action.Item ?? {}, shape.keyNames);
    const current = await this.#call('GetItem', { TableName: action.TableName, Key: key, ConsistentRead: true });
    if (current.status !== 200) return current;
    const old = current.body.Item as Record<string, unknown> | undefined;
    const onShadow = { TableName: shape.shadow };
    const copied = old
      ? await this.#call('PutItem', { ...onShadow, Item: old })
      : await this.#call('DeleteItem', { ...onShadow, Key: key });
    if (copied.status !== 200) return copied;
    try {
      const expressions = {
        ...onShadow,
        ConditionExpression: action.ConditionExpression,
        ExpressionAttributeNames: action.ExpressionAttributeNames,
        ExpressionAttributeValues: action.ExpressionAttributeValues,
        ...(withCapacity ? { ReturnConsumedCapacity: 'TOTAL' } : {}),
      };
      const reply = await this.#run(action, key, expressions);
      if (reply.status === 200) {
        const capacity = capacityOf(reply);
        if (action.kind === 'ConditionCheck') return { kind: 'passed', capacity };
        if (action.kind === 'Delete') return { kind: 'passed', capacity, write: { TableName: action.TableName, Key: key } };
        const image = action.kind === 'Put' ? action.Item : (reply.body.Attributes as Record<string, unknown> | undefined);
        if (!image) throw new Error('dynalite gave no new image for a transaction update');
        return { kind: 'passed', capacity, write: { TableName: action.TableName, Key: key, Item: image } };
      }
      const type = typeOf(reply);
      if (type === 'ConditionalCheckFailedException') {
        return { kind: 'condition-failed', old: action.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' ? old : undefined };
      }
      const message = String(reply.body.message ?? '');
      if (type === 'ValidationException' && ITEM_DEPENDENT.some((m) => message.startsWith(m)))
        return { kind: 'invalid', message };
      return reply;
    } finally {
      // The shadow keeps no copy: cases hold sealed personal data, and one copy on disk is enough.
      await this.#call('DeleteItem', { ...onShadow, Key: key });
    }
  }

  #run(action: Action, key: Record<string, unknown>, expressions: Record<string, unknown>): Promise<Reply> {
    switch (action.kind) {
      case 'Update':
        return this.#call('UpdateItem', {
          ...expressions,
          Key: key,
          UpdateExpression: action.UpdateExpression,
          ReturnValues: 'ALL_NEW',
        });
      case 'Put':
        return this.#call('PutItem', { ...expressions, Item: action.Item });
      // A check and a delete both end on a copy that is thrown away: only the condition matters.
      case 'Delete':
      case 'ConditionCheck':
        return this.#call('DeleteItem', { ...expressions, Key: key });
    }
  }

  async #commit(journal: Journal): Promise<void> {
    if (journal.writes.length > 0) {
      this.#hooks.at?.('evaluated');
      await writeWhole(this.#journal, JSON.stringify(journal));
      this.#hooks.at?.('journaled');
      await this.#apply(journal.writes, this.#hooks);
      await unlink(this.#journal);
    }
    if (journal.token !== undefined) this.#remember(journal.token, journal.fingerprint, journal.answer);
  }

  async #apply(writes: JournalWrite[], hooks: TransactionHooks = {}): Promise<void> {
    for (const [i, write] of writes.entries()) {
      const reply = write.Item
        ? await this.#call('PutItem', { TableName: write.TableName, Item: write.Item })
        : await this.#call('DeleteItem', { TableName: write.TableName, Key: write.Key });
      // The journal stays: the next start applies the whole transaction again.
      if (reply.status !== 200) throw new Error(`a journaled transaction write failed: ${JSON.stringify(reply.body)}`);
      hooks.at?.(`applied-${i}`);
    }
  }
}

const TableDescription = z.object({
  TableStatus: z.string(),
  AttributeDefinitions: z.array(z.object({ AttributeName: z.string(), AttributeType: z.string() })),
  KeySchema: z.array(z.object({ AttributeName: z.string(), KeyType: z.string() })),
  GlobalSecondaryIndexes: z
    .array(
      z.object({
        IndexName: z.string(),
        KeySchema: z.array(z.unknown()),
        Projection: z.unknown(),
        IndexStatus: z.string().optional(),
      }),
    )
    .optional(),
  LocalSecondaryIndexes: z
    .array(z.object({ IndexName: z.string(), KeySchema: z.array(z.unknown()), Projection: z.unknown() }))
    .optional(),
});

/** A call naming a shadow table, answered as a refusal that says why. */
export function shadowNamed(): Reply {
  return validation(
    `Nama tabel berawalan ${SHADOW_PREFIX} dipakai DynamoDB lokal untuk transaksi / Table names starting with ${SHADOW_PREFIX} are kept by the local DynamoDB for transactions`,
  );
}

function canceled(outcomes: Outcome[]): Reply {
  const reasons = outcomes.map((o) => {
    if (o.kind === 'condition-failed') {
      return { Code: 'ConditionalCheckFailed', ...(o.old ? { Item: o.old } : {}), Message: 'The conditional request failed' };
    }
    if (o.kind === 'invalid') return { Code: 'ValidationError', Message: o.message };
    return { Code: 'None' };
  });
  // The service spells this one's message with a capital M.
  return {
    status: 400,
    body: {
      __type: `${SERVICE}#TransactionCanceledException`,
      CancellationReasons: reasons,
      Message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
    },
  };
}

function consumed(actions: Action[], outcomes: Outcome[], mode: string | undefined) {
  if (mode !== 'TOTAL' && mode !== 'INDEXES') return undefined;
  const units = new Map<string, number>();
  for (const [i, o] of outcomes.entries()) {
    const table = actions[i]?.TableName;
    // A transactional write costs twice a standard one.
    if (table && o.kind === 'passed') units.set(table, (units.get(table) ?? 0) + 2 * o.capacity);
  }
  return [...units].map(([TableName, CapacityUnits]) => ({
    TableName,
    CapacityUnits,
    WriteCapacityUnits: CapacityUnits,
    ...(mode === 'INDEXES' ? { Table: { CapacityUnits, WriteCapacityUnits: CapacityUnits } } : {}),
  }));
}

function capacityOf(reply: Reply): number {
  const capacity = reply.body.ConsumedCapacity as { CapacityUnits?: unknown } | undefined;
  return typeof capacity?.CapacityUnits === 'number' ? capacity.CapacityUnits : 0;
}

function pick(item: Record<string, unknown>, names: string[]): Record<string, unknown> {
  return Object.fromEntries(names.filter((n) => n in item).map((n) => [n, item[n]]));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function ignoreMissing(e: unknown): void {
  if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
}

/**
 * Written, then renamed into place: the journal is whole or absent after a process dies at
 * any point (a rename is atomic). Not fsynced: dynalite's own writes (leveldb, sync off)
 * are not either, so an fsync here would guard against a power cut the data itself does
 * not survive, and it cost half of every transaction's time.
 */
async function writeWhole(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  const file = await open(tmp, 'w');
  try {
    await file.writeFile(text);
  } finally {
    await file.close();
  }
  await rename(tmp, path);
}
