import { describe, expect, it } from 'vitest';
import { readContext } from '../../infra/context.ts';
import { cdkJsonContext, testApp } from './synth.ts';

describe('CDK context', () => {
  it('cdk.json has usable example addresses, so `cdk synth` works on a fresh clone', () => {
    const context = readContext(testApp());
    expect(context.senderEmail).toBe(cdkJsonContext().senderEmail);
    expect(context.stackName).toBe('Prokus');
  });

  it('`-c` values override the examples', () => {
    const context = readContext(testApp({ senderEmail: 'prokus@dinsos.example.org', stackName: 'ProkusStaging' }));
    expect(context).toMatchObject({ senderEmail: 'prokus@dinsos.example.org', stackName: 'ProkusStaging' });
  });

  it('a mistyped address fails the synth with a message naming the setting', () => {
    expect(() => readContext(testApp({ senderEmail: 'prokus-at-example.org' }))).toThrow(/senderEmail/);
  });

  it('a stack name that cannot prefix a state machine name is refused', () => {
    expect(() => readContext(testApp({ stackName: 'prokus journey' }))).toThrow(/stackName/);
  });

  it('an alarm topic is optional, and when given must be the ARN of a standard SNS topic', () => {
    expect(readContext(testApp()).alarmTopicArn).toBeUndefined();
    const arn = 'arn:aws:sns:ap-southeast-3:123456789012:prokus-operations';
    expect(readContext(testApp({ alarmTopicArn: arn })).alarmTopicArn).toBe(arn);
    expect(() => readContext(testApp({ alarmTopicArn: 'prokus-operations' }))).toThrow(/alarmTopicArn/);
  });

  it('the sender identity is made by the stack unless it already exists; a sign-in domain prefix Cognito would refuse is refused', () => {
    expect(readContext(testApp()).senderIdentity).toBe('create');
    expect(readContext(testApp({ senderIdentity: 'existing' })).senderIdentity).toBe('existing');
    expect(() => readContext(testApp({ senderIdentity: 'import' }))).toThrow(/senderIdentity/);
    expect(readContext(testApp()).signInDomainPrefix).toBeUndefined();
    expect(readContext(testApp({ signInDomainPrefix: 'prokus-kemensos' })).signInDomainPrefix).toBe('prokus-kemensos');
    for (const bad of ['Prokus', 'prokus_kemensos', '-prokus', 'prokus-cognito']) {
      expect(() => readContext(testApp({ signInDomainPrefix: bad })), bad).toThrow(/signInDomainPrefix/);
    }
  });

  it('log levels are the ones Powertools Logger knows', () => {
    expect(readContext(testApp({ logLevel: 'critical' })).logLevel).toBe('critical');
    expect(() => readContext(testApp({ logLevel: 'fatal' }))).toThrow(/logLevel/);
  });
});
