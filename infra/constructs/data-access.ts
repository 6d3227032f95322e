/**
 * Least-privilege grants on the case table and the files bucket: named actions only,
 * table items bounded by partition key, objects bounded by key pattern, and the KMS key
 * usable only through the service that holds the data. The CDK `grantReadWriteData` /
 * `grantReadWrite` helpers give every function Scan, DeleteItem, BatchWriteItem and
 * DeleteObject on everything; Prokus's functions each touch a few item kinds and prefixes.
 */
import { Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IBucket } from 'aws-cdk-lib/aws-s3';

/** The single-item calls Prokus makes (functions/store/: no Scan, no batches, no transactions), and Query. */
export type TableAction = 'GetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'Query';

export interface TableAccess {
  readonly actions: readonly TableAction[];
  /**
   * The partition key values the calls may touch, as IAM `StringLike` patterns
   * (`CASE#*`). On the table that is `pk`; with `index` it is the index's partition key.
   */
  readonly leadingKeys: readonly string[];
  /**
   * Query this global secondary index instead of the table's items. `dynamodb:LeadingKeys`
   * is the partition key of what the request reads: for a Query on an index, the index's
   * partition key (`gsi1pk = DISTRICT#…`), never the table's `pk`. So an index gets a
   * statement of its own, on the index ARN, with the index's key patterns.
   */
  readonly index?: string;
}

export class DataAccessError extends Error {
  override readonly name = 'DataAccessError';
}

/**
 * Lets `grantee` make exactly `access.actions` on the items (or index entries) whose
 * partition key matches `access.leadingKeys`, and decrypt through DynamoDB with the
 * table's customer-managed key.
 */
export function grantTableAccess(grantee: IGrantable, table: ITable, access: TableAccess): void {
  if (access.actions.length === 0) throw new DataAccessError('grantTableAccess: no actions');
  if (access.leadingKeys.length === 0 || access.leadingKeys.some((k) => k === '' || k === '*')) {
    // A pattern of "*" would make the condition pointless; every grant names the item kinds it touches.
    throw new DataAccessError(`grantTableAccess: leading keys must name item kinds, got [${access.leadingKeys.join(', ')}]`);
  }
  if (access.index && access.actions.some((a) => a !== 'Query')) {
    throw new DataAccessError(`grantTableAccess: an index only answers Query, not ${access.actions.join(', ')}`);
  }
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: access.actions.map((a) => `dynamodb:${a}`),
      resources: [access.index ? `${table.tableArn}/index/${access.index}` : table.tableArn],
      conditions: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...access.leadingKeys] },
        // ForAllValues is true when the request has no such key at all; require it.
        Null: { 'dynamodb:LeadingKeys': 'false' },
      },
    }),
  );
  if (table.encryptionKey) {
    // As aws-cdk-lib's own Table grants do: reads need Decrypt, writes the key's Encrypt and
    // GenerateDataKey too (DynamoDB caches the table key, but a write may have it refreshed),
    // named without the wildcards CDK uses.
    const writes = access.actions.some((a) => WRITE_ACTIONS.has(a));
    const kms = ['kms:Decrypt', 'kms:DescribeKey', ...(writes ? ['kms:Encrypt', 'kms:GenerateDataKey'] : [])];
    grantKeyVia(grantee, table.encryptionKey, 'dynamodb', kms);
  }
}

const WRITE_ACTIONS: ReadonlySet<string> = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);

/** What each S3 object action needs from an SSE-KMS key (with or without an S3 Bucket Key). */
const KMS_FOR_S3: Record<string, string[]> = {
  's3:GetObject': ['kms:Decrypt'],
  's3:PutObject': ['kms:GenerateDataKey'],
  // Completing a multipart upload decrypts the parts' data keys.
  's3:ListMultipartUploadParts': ['kms:Decrypt'],
  's3:AbortMultipartUpload': [],
  // A delete (on a versioned bucket, a delete marker) reads no object data.
  's3:DeleteObject': [],
};

/** Lets `grantee` make `actions` on the objects whose keys match `keyPatterns`, and no others. */
export function grantObjectAccess(
  grantee: IGrantable,
  bucket: IBucket,
  actions: readonly string[],
  keyPatterns: readonly string[],
) {
  const unknown = actions.filter((a) => !(a in KMS_FOR_S3));
  if (unknown.length > 0) throw new DataAccessError(`grantObjectAccess: no KMS mapping for [${unknown.join(', ')}]`);
  if (keyPatterns.length === 0 || keyPatterns.some((k) => k === '' || k === '*')) {
    throw new DataAccessError(`grantObjectAccess: key patterns must name a prefix, got [${keyPatterns.join(', ')}]`);
  }
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({ actions: [...actions], resources: keyPatterns.map((k) => bucket.arnForObjects(k)) }),
  );
  const kms = [...new Set(actions.flatMap((a) => KMS_FOR_S3[a] ?? []))].sort();
  if (bucket.encryptionKey && kms.length > 0) grantKeyVia(grantee, bucket.encryptionKey, 's3', kms);
}

/**
 * Lets `grantee` list the bucket's keys under `prefixes` only: ListBucket is granted on
 * the bucket, and its `s3:prefix` condition keeps the listing to those prefixes. A
 * listing gives key names (no contents), so it needs nothing of the key.
 */
export function grantListing(grantee: IGrantable, bucket: IBucket, prefixes: readonly string[]): void {
  if (prefixes.length === 0 || prefixes.some((p) => p === '' || p.includes('*') || !p.endsWith('/'))) {
    throw new DataAccessError(`grantListing: prefixes must be folders like "proposals/", got [${prefixes.join(', ')}]`);
  }
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': prefixes.map((p) => `${p}*`) } },
    }),
  );
}

/** The key may be used only by the named service on the grantee's behalf, not directly. */
function grantKeyVia(grantee: IGrantable, key: IKey, service: 'dynamodb' | 's3', actions: string[]): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions,
      resources: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `${service}.${Stack.of(key).region}.amazonaws.com` } },
    }),
  );
}
