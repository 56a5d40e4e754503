// Hand-made records: see README.md in this folder.
export * from './record.js';
export { ManualSource, NoLeaseError, RecordExistsError, RecordIdCaseError, RecordUnreadableError, type ManualSourceOptions, type RecordChange } from './source.js';
