/**
 * `prokus upload` says "uploaded" only once the upload's intake is recorded: a dev killed
 * between storing the file and recording its intake must not lose the upload silently.
 */
import { DescribeExecutionCommand, ExecutionDoesNotExist, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { intakeExecutionName } from '../../../embedded/local/s3.ts';
import { confirmIntake } from '../../../embedded/runtime/upload.ts';

const sfn = mockClient(SFNClient);
const client = new SFNClient({ region: 'ap-southeast-3' });
const intakeArn = 'arn:aws:states:ap-southeast-3:000000000000:stateMachine:prokus-intake';
const upload = { key: 'proposals/3210/usulan.csv', eTag: 'abc123' };
const missing = () => new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} });

beforeEach(() => sfn.reset());

describe('confirmIntake', () => {
  it('returns once the intake named after this write exists', async () => {
    sfn.on(DescribeExecutionCommand).rejectsOnce(missing()).rejectsOnce(new TypeError('fetch failed')).resolves({});
    await confirmIntake(client, intakeArn, upload, 5_000);
    expect(sfn).toHaveReceivedCommandWith(DescribeExecutionCommand, {
      executionArn: `arn:aws:states:ap-southeast-3:000000000000:execution:prokus-intake:${intakeExecutionName(upload.key, upload.eTag)}`,
    });
  });

  it('tells the officer to upload again when the intake never started', async () => {
    sfn.on(DescribeExecutionCommand).rejects(missing());
    await expect(confirmIntake(client, intakeArn, upload, 600)).rejects.toMatchObject({
      name: 'UploadError',
      text: { en: expect.stringContaining('Upload the file again') },
    });
  });
});
