export { main } from './main.js';
export { runAnalysis, type AnalysisOptions, type AnalysisResult } from './run-analysis.js';
