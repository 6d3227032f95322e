/**
 * Where Prokus keeps its state: the case table, the bucket of uploads and reports,
 * and the program secret the handlers derive their keys from. NIK and KK are personal
 * data under UU PDP No. 27/2022, so the table and the bucket are encrypted with a key
 * the program owns (its use shows in CloudTrail and it can be revoked), and both are
 * retained when the stack is deleted.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Key } from 'aws-cdk-lib/aws-kms';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { CHECKS_PREFIX } from '#intake/bucket-layout';
import { BY_DISTRICT_STAGE, BY_UPLOAD_STAGE, TABLE_KEY } from '#lib/table-schema';

/** The operators' query (functions/store/cases.ts `listCases`): cases of a district and year, by stage. */
export const DISTRICT_STAGE_INDEX = BY_DISTRICT_STAGE.indexName;

/** How long the files bucket's server access logs are kept: long enough for a yearly audit of who read the uploads. */
export const ACCESS_LOG_RETENTION = Duration.days(365);

/**
 * Items that end carry their end here, in epoch seconds, for DynamoDB to delete them
 * (sessions and sign-ins under way, store/sessions.ts). Deletion comes within a day or
 * two, so readers check the expiry themselves too.
 */
export const TTL_ATTRIBUTE = 'ttl';

/** How long a file an officer uploaded for checking stays if it is never submitted. */
export const CHECK_RETENTION = Duration.days(1);

export class ProkusData extends Construct {
  readonly key: Key;
  readonly table: Table;
  readonly bucket: Bucket;
  /** Server access logs of `bucket`: who read or wrote which upload, and when. */
  readonly accessLogs: Bucket;
  readonly secret: Secret;

  constructor(scope: Construct, id: string) {
    super(scope, id);

    this.key = new Key(this, 'DataKey', {
      description: 'Prokus personal data (case table and uploaded proposals)',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.table = new Table(this, 'Cases', {
      partitionKey: { name: TABLE_KEY.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEY.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      timeToLiveAttribute: TTL_ATTRIBUTE,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: DISTRICT_STAGE_INDEX,
      partitionKey: { name: BY_DISTRICT_STAGE.partitionKey, type: AttributeType.STRING },
      sortKey: { name: BY_DISTRICT_STAGE.sortKey, type: AttributeType.STRING },
      // listCases parses whole case records from the index.
      projectionType: ProjectionType.ALL,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: BY_UPLOAD_STAGE.indexName,
      partitionKey: { name: BY_UPLOAD_STAGE.partitionKey, type: AttributeType.STRING },
      sortKey: { name: BY_UPLOAD_STAGE.sortKey, type: AttributeType.STRING },
      // The upload page counts an upload's families per stage: keys and the outcome are enough.
      projectionType: ProjectionType.INCLUDE,
      nonKeyAttributes: [...BY_UPLOAD_STAGE.projected],
    });

    // Access logs name objects and requesters, not contents: S3-managed keys (the only
    // encryption server access logging delivers to), and gone after a year.
    this.accessLogs = new Bucket(this, 'AccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      lifecycleRules: [{ expiration: ACCESS_LOG_RETENTION }],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.bucket = new Bucket(this, 'Files', {
      encryption: BucketEncryption.KMS,
      encryptionKey: this.key,
      // One data key per bucket instead of one KMS call per object: uploads of 500 districts a day.
      bucketKeyEnabled: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      versioned: true,
      eventBridgeEnabled: true,
      // The uploads hold raw NIKs: every read and write of them is logged.
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'files/',
      lifecycleRules: [
        // Versions replaced by a re-upload stay recoverable for a while, not forever.
        { id: 'old-versions', noncurrentVersionExpiration: Duration.days(90) },
        // A check never submitted is an abandoned copy of a file full of NIKs: gone after a
        // day, every version of it, and any upload the browser left half done.
        {
          id: 'abandoned-checks',
          prefix: CHECKS_PREFIX,
          expiration: CHECK_RETENTION,
          noncurrentVersionExpiration: CHECK_RETENTION,
          abortIncompleteMultipartUploadAfter: CHECK_RETENTION,
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // Without this secret no sealed field can be read and no hash recomputed: never deleted with the stack.
    this.secret = new Secret(this, 'ProgramSecret', {
      description: 'Prokus program secret: identity hashing, sealing of personal fields, link signatures',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
