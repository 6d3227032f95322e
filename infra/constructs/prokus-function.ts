/**
 * One Lambda function per entry file in functions/, with the defaults every Prokus
 * handler shares, so the stack only says what differs (memory, timeout, grants).
 */
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { BUNDLE_ALIASES } from './bundle/aliases.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

// The bundle is ESM (middy and our own code are ESM); some dependencies (pino,
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
    super(scope, id, {
      entry: `${repoRoot}functions/${props.entryFile}`,
      handler: 'handler',
      projectRoot: repoRoot,
      depsLockFilePath: `${repoRoot}package-lock.json`,
      description: props.description,
      // Node 22 on Lambda: nodejs20.x is deprecated (no new functions from 2027-02-01). The
      // embedded runtime still runs the same code on Node 20; nothing here needs 22 features.
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: Tracing.ACTIVE,
      logGroup,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
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
  }
}
