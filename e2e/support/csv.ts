/**
 * Reads the CSV exports back as RFC 4180 says (quoted cells may hold commas, quotes and line
 * breaks), so a test never depends on which cells the exporter happened to quote: the same reader
 * the receipt check ([AU-6]) uses on a downloaded CSV.
 */
export { parseCsv } from '../../src/workloads/export/receiptExport.ts';
