import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory, SqlResultSet } from '@prisma/driver-adapter-utils';

// SchemaEngine.new insists on an adapter and probes the server once, even
// though a schema-to-schema diff never touches a database. This stand-in
// answers that probe the way PostgreSQL 18.4 does (the version embedded PG and
// production run) and refuses everything else, so a diff cannot silently
// depend on a live database.
const PROBE_ANSWER: SqlResultSet = {
  columnNames: ['exists', 'version', 'numeric_version'],
  columnTypes: [5, 7, 0], // Boolean, Text, Int32 in ColumnTypeEnum
  rows: [[true, 'PostgreSQL 18.4', 180004]],
};

function refuse(what: string): never {
  throw new Error(`the offline schema engine has no database (it was asked to ${what})`);
}

const adapter: SqlDriverAdapter = {
  provider: 'postgres',
  adapterName: 'crosswire-offline',
  async queryRaw(query) {
    if (query.sql.includes('server_version_num')) return PROBE_ANSWER;
    return refuse(`run: ${query.sql}`);
  },
  executeRaw: async (query) => refuse(`run: ${query.sql}`),
  executeScript: async () => refuse('run a script'),
  startTransaction: async () => refuse('open a transaction'),
  getConnectionInfo: () => ({ supportsRelationJoins: true }),
  dispose: async () => {},
};

export const offlineAdapterFactory: SqlMigrationAwareDriverAdapterFactory = {
  provider: 'postgres',
  adapterName: 'crosswire-offline',
  connect: async () => adapter,
  connectToShadowDb: async () => refuse('create a shadow database'),
};
