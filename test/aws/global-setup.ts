/**
 * Once per `npm run test:aws`: package the service with osls, start moto_server on a free
 * loopback port, deploy the package into it as a CloudFormation stack (a template that does not
 * deploy fails the run here), and unpack the function zips for the handler tests.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { SAMPLE_APP_ID } from '../../dev/simulator/sample-calls.ts';
import { startMoto } from './support/moto.ts';
import { deployStack, packageStage, STAGE, unpackFunctions } from './support/stack.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** moto_server's endpoint. */
    motoEndpoint: string;
    /** The `osls package` output folder. */
    packageDir: string;
    /** Logical id → physical id of the deployed stack's resources. */
    stackResources: Record<string, string>;
    /** Function zip name → the folder it was unpacked into. */
    functionFolders: Record<string, string>;
  }
}

/** The zips `osls package` builds, one per function in serverless.yml. */
export const FUNCTIONS = ['webhook', 'enrich', 'enrichCall', 'backfill', 'erase'] as const;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'cometchat-aws-'));
  const moto = await startMoto();
  try {
    // The simulator's app id, so webhooks the simulator's calls produce are for "our" app.
    await packageStage(STAGE, dir, { COMETCHAT_APP_ID: SAMPLE_APP_ID, COMETCHAT_REGION: 'us' });
    const [resources, folders] = await Promise.all([
      deployStack(moto.endpoint, dir),
      unpackFunctions(dir, FUNCTIONS),
    ]);
    project.provide('motoEndpoint', moto.endpoint);
    project.provide('packageDir', dir);
    project.provide('stackResources', Object.fromEntries(resources));
    project.provide('functionFolders', Object.fromEntries(folders));
  } catch (error) {
    await moto.stop();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return async () => {
    await moto.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
