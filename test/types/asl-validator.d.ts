// asl-validator ships no types of its own.
declare module 'asl-validator' {
  interface ValidationOptions {
    checkPaths?: boolean;
    checkArn?: boolean;
  }
  interface ValidationResult {
    isValid: boolean;
    errors: Record<string, unknown>[];
    errorsText(separator?: string): string;
  }
  /** Validates a state machine definition (note: it adds `QueryLanguage` to every state it sees). */
  function validator(definition: unknown, options?: ValidationOptions): ValidationResult;
  export = validator;
}
