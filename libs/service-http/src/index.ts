export { createRegistry, startHealthServer, type HealthServer, type HealthServerOptions, type ReadinessCheck } from './health-server.js';
