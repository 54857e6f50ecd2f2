// The database tooling runs before the app's logger exists (CLI scripts, jest
// global setup), so callers hand in a plain function instead of a Nest logger.
export type DbLog = (msg: string, fields?: Record<string, unknown>) => void;

export const noLog: DbLog = () => {};
