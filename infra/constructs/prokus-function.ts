/**
 * One Lambda function per entry file in functions/, with the defaults every Prokus
 * handler shares, so the stack only says what differs (memory, timeout, grants).
 */
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../functions/lib/metric-names.ts';
import { BUNDLE_ALIASES } from './bundle/aliases.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

// The bundle is ESM (middy and our own code are ESM); some dependencies (aws-xray-sdk-core,
// nodemailer) still call require(), which ESM lacks unless we provide it.
const requireBanner = "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

export interface ProkusFunctionProps {
  /** File name under functions/, e.g. `load-case.ts`. */
  readonly entryFile: string;
  readonly description: string;
  /** Default 512 MB: arm64 CPU share grows with memory, and cold starts load the SDK and the keys. */
  readonly memorySize?: number;
  /** Default 30 s, below the 60 s TimeoutSeconds of the task states that call these functions. */
  readonly timeout?: Duration;
  readonly environment?: Record<string, string>;
  readonly logRetention?: RetentionDays;
}

export class ProkusFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: ProkusFunctionProps) {
    // The log group is created before the function so its retention is ours, not "never expire".
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // A role of our own instead of CDK's default with AWSLambdaBasicExecutionRole, which may
    // create and write any log group in the account: this one writes its own group only.
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Prokus ${id} function`,
    });
    super(scope, id, {
      entry: `${repoRoot}functions/${props.entryFile}`,
      handler: 'handler',
      projectRoot: repoRoot,
      depsLockFilePath: `${repoRoot}package-lock.json`,
      description: props.description,
      // Node 24 (LTS to April 2028), the same major the embedded runtime and the tests run on
      // (the `node` devDependency), so what passed locally is what runs on Lambda.
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: Tracing.ACTIVE,
      logGroup,
      role,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        // Powertools reads these too; lib/logger.ts and lib/metrics.ts name the same values.
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        banner: requireBanner,
        minify: true,
        sourceMap: true,
        // Stack traces need the mappings, not the sources: keeps the zip small.
        sourcesContent: false,
        // Bundle the AWS SDK too: handlers then run with the SDK versions the tests ran
        // with, not whatever the managed runtime ships this month.
        externalModules: [],
        // Never Docker: esbuild is a local devDependency.
        forceDockerBundling: false,
        // Stand-ins for code our functions never run in Lambda (bundle/aliases.ts).
        esbuildArgs: { '--alias': Object.entries(BUNDLE_ALIASES).map(([from, to]) => `${from}=${to}`) },
      },
    });
    logGroup.grantWrite(role);
  }
}
