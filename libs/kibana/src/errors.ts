import { codedMessage, KilltraceError } from '@killtrace/errors';

/** Codes of the Kibana adapter's own errors. */
export const kibanaErrorCodes = {
  /** Kibana could not be reached (connection refused, DNS, TLS, timeout). */
  KT_ERR_KIBANA_UNREACHABLE: 'Kibana unreachable',
  /** Kibana answered the import with an HTTP error (authentication, privileges, bad request). */
  KT_ERR_KIBANA_HTTP: 'Kibana answered with an HTTP error',
  /** Kibana's answer was not the saved objects import response. */
  KT_ERR_KIBANA_RESPONSE: 'unexpected Kibana response',
  /** A CA file named in the configuration could not be read. */
  KT_ERR_KIBANA_TLS_CA: 'TLS CA file unreadable',
} as const;
export type KibanaErrorCode = keyof typeof kibanaErrorCodes;

/** An error raised by the Kibana adapter, with the URL it concerns (never the credentials). */
export class KibanaAdapterError extends KilltraceError<KibanaErrorCode> {
  override readonly name = 'KibanaAdapterError';
  readonly url: string;
  readonly status: number | undefined;

  constructor(code: KibanaErrorCode, message: string, options: { url: string; status?: number; cause?: unknown }) {
    super(code, codedMessage(code, message), { cause: options.cause, context: { url: options.url, status: options.status } });
    this.url = options.url;
    this.status = options.status;
  }
}
