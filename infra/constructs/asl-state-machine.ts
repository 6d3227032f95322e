/**
 * A state machine whose definition is one of the ASL files in workflows/, the same
 * file the embedded runtime runs. CDK only fills in the `${...}` placeholders; a
 * placeholder left without a value (or a value for a placeholder that no longer
 * exists) fails the synth instead of a deployment.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RemovalPolicy } from 'aws-cdk-lib';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine, type StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Every `${Name}` in an ASL file. */
export function aslPlaceholders(aslFile: string): string[] {
  const text = readFileSync(`${repoRoot}${aslFile}`, 'utf8');
  return [...new Set([...text.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1] ?? ''))].sort();
}

export class AslSubstitutionError extends Error {
  override readonly name = 'AslSubstitutionError';
}

export interface AslStateMachineProps {
  /** Path from the repository root, e.g. `workflows/journey.asl.json`. */
  readonly aslFile: string;
  readonly stateMachineName: string;
  readonly stateMachineType: StateMachineType;
  readonly substitutions: Record<string, string>;
  readonly logRetention?: RetentionDays;
}

export class AslStateMachine extends Construct {
  readonly stateMachine: StateMachine;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: AslStateMachineProps) {
    super(scope, id);
    const wanted = aslPlaceholders(props.aslFile);
    const given = Object.keys(props.substitutions).sort();
    const missing = wanted.filter((name) => !given.includes(name));
    const unused = given.filter((name) => !wanted.includes(name));
    if (missing.length > 0 || unused.length > 0) {
      throw new AslSubstitutionError(
        `${props.aslFile}: no value for [${missing.join(', ')}]; values for unknown placeholders [${unused.join(', ')}]`,
      );
    }

    this.logGroup = new LogGroup(this, 'Logs', {
      // The /aws/vendedlogs/ prefix keeps the CloudWatch Logs resource policy small
      // when many state machines log (Step Functions' documented recommendation).
      logGroupName: `/aws/vendedlogs/states/${props.stateMachineName}`,
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.stateMachine = new StateMachine(this, 'Resource', {
      stateMachineName: props.stateMachineName,
      stateMachineType: props.stateMachineType,
      definitionBody: DefinitionBody.fromFile(`${repoRoot}${props.aslFile}`),
      definitionSubstitutions: props.substitutions,
      tracingEnabled: true,
      // Payloads carry only case ids, but execution data stays out of the logs anyway:
      // the logs outlive the case and are read by more people than the case is.
      logs: { destination: this.logGroup, level: LogLevel.ERROR, includeExecutionData: false },
    });
  }
}
