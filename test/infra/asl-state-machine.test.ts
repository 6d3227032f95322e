import { Stack } from 'aws-cdk-lib';
import { StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, it } from 'vitest';
import { AslStateMachine, AslSubstitutionError, aslPlaceholders } from '../../infra/constructs/asl-state-machine.ts';
import { testApp } from './synth.ts';

const journeyPlaceholders = aslPlaceholders('workflows/journey.asl.json');

function journeyWith(substitutions: Record<string, string>) {
  return () =>
    new AslStateMachine(new Stack(testApp(), 'S'), 'Journey', {
      aslFile: 'workflows/journey.asl.json',
      stateMachineName: 'S-Journey',
      stateMachineType: StateMachineType.STANDARD,
      substitutions,
    });
}

describe('AslStateMachine', () => {
  it('finds every placeholder the journey uses, each once', () => {
    expect(journeyPlaceholders).toContain('LoadCaseFunctionArn');
    expect(journeyPlaceholders).toContain('AwaitRequestFunctionArn');
    expect(new Set(journeyPlaceholders).size).toBe(journeyPlaceholders.length);
    expect(journeyPlaceholders.every((p) => p.endsWith('FunctionArn'))).toBe(true);
  });

  it('fails the synth, naming it, when a placeholder has no value', () => {
    const all = Object.fromEntries(
      journeyPlaceholders.map((p) => [p, `arn:aws:lambda:ap-southeast-3:123456789012:function:${p}`]),
    );
    const { GradingFunctionArn: _dropped, ...withoutGrading } = all;
    expect(journeyWith(withoutGrading)).toThrow(AslSubstitutionError);
    expect(journeyWith(withoutGrading)).toThrow(/no value for \[GradingFunctionArn\]/);
  });

  it('fails the synth when a value is given for a placeholder the file no longer has', () => {
    const all = Object.fromEntries(journeyPlaceholders.map((p) => [p, 'arn:aws:lambda:ap-southeast-3:123456789012:function:x']));
    expect(journeyWith({ ...all, RenamedStageFunctionArn: 'arn:x' })).toThrow(/unknown placeholders \[RenamedStageFunctionArn\]/);
  });

  it('builds the machine when every placeholder has a value', () => {
    const all = Object.fromEntries(journeyPlaceholders.map((p) => [p, 'arn:aws:lambda:ap-southeast-3:123456789012:function:x']));
    expect(journeyWith(all)().stateMachine.node.id).toBe('Resource');
  });
});
