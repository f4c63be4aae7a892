/**
 * @killtrace/elastic: the only code that talks to Elasticsearch. Client from configuration, the restart-record
 * index template behind a write alias, and a bulk writer that reports every per-document failure.
 */
export { createElasticClient, elasticClientOptions, type ElasticClient, type ElasticClientOptions } from './client.js';
export { installIndexTemplate, type IndexTemplateOptions, type IndexTemplateReport } from './index-template.js';
export { writeDocuments, type BulkDocument, type BulkFailure, type BulkReport, type BulkWriteOptions } from './bulk-writer.js';
export { restartRecordMappings, restartRecordSettings } from './restart-record-template.js';
export { ElasticAdapterError, elasticErrorCodes, classifyElasticError, type ElasticErrorCode } from './errors.js';
export { recordQuery, recordSort, type RecordFilter, type SortOrder } from './record-query.js';
export {
  searchRecords,
  getRecord,
  encodeCursor,
  decodeCursor,
  RecordSnapshot,
  EmptySnapshot,
  type RecordPage,
  type SearchCursor,
  type SearchRecordsOptions,
  type StreamProgress,
} from './record-search.js';
