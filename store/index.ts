export * from './sql.js';
export * from './store.js';
export { openStore, type OpenStoreOptions } from './open.js';
export { openEmbeddedStore } from './embedded.js';
export { openServerStore } from './server.js';
export { migrate, migrationsApplied, loadMigrations, splitStatements } from './migrate.js';
export { clusterIdentifier, clusterStatements, localTable, PLACEMENT, LOCAL_SUFFIX, ClusterRewriteError } from './cluster.js';
export { applyRetention, oldestKeptMonth } from './retention.js';
export { observeStore, type StoreObserver, type StoreOperation } from './observed.js';
