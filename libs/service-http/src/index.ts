export { createRegistry, startHealthServer, type HealthServer, type HealthServerOptions, type ReadinessCheck } from './health-server.js';
export { Dependencies, type DependencyLogger, type DependencyWaitOptions } from './dependencies.js';
export { runService, type RunServiceOptions, type ServiceContext, type StartedService } from './run-service.js';
