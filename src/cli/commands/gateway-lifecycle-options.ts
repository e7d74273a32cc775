/**
 * The flags of `gatehouse gateway start|stop|restart|status|install` and their defaults: shared by
 * the light module that declares the commands and the implementation it loads when one runs.
 */
export const DEFAULT_START_TIMEOUT_MS = 15_000;
export const DEFAULT_STOP_TIMEOUT_MS = 10_000;

/** The `gateway run` flags `start` and `restart` pass through. */
export interface RunFlags {
  port?: string;
  bind?: string;
  host?: string;
  auth?: string;
  token?: string;
  password?: string;
  logFormat?: string;
}

export interface LifecycleOptions extends RunFlags {
  stateDir?: string;
  timeout?: string;
  json?: boolean;
}

export interface InstallOptions {
  stateDir?: string;
  user?: boolean;
  print?: boolean;
  json?: boolean;
}
