/** asl-validator ships no types; the one call used here, its result parsed with zod by the caller. */
declare module 'asl-validator' {
  export default function validator(definition: unknown, options?: { checkPaths?: boolean; checkArn?: boolean }): unknown;
}
