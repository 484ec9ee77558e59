export interface CheckThresholds {
  maxPushBytes?: number;
  /** Bytes (number) or a percentage string such as "10%". */
  maxClosureGrowth?: number | string;
  minSavingsVsAutoLayer?: number;
  failOnBudgetExceeded?: boolean;
}

export interface PlannerConfig {
  services: string[];
  maxLayers: number;
  /** PlanOptions.churnWeight; undefined: the planner's default. */
  churnWeight?: number;
  storeDir: string;
  registry?: string;
  insecureRegistries?: string[];
  /** Absolute path of the OCI layout directory. */
  out: string;
  /** Absolute path of the layer cache directory. */
  cacheDir: string;
  check: CheckThresholds;
}

/** OCI image config in dockerTools' spelling. */
export interface ImageConfig {
  Cmd?: string[];
  Entrypoint?: string[];
  Env?: string[];
  ExposedPorts?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  User?: string;
  Labels?: Record<string, string>;
  Volumes?: Record<string, Record<string, never>>;
  StopSignal?: string;
}

export interface ServiceManifest {
  name: string;
  tag: string;
  contents: string[];
  closure?: string;
  config?: ImageConfig;
  maxLayers?: number;
  fromImage?: string;
  repository?: string;
}

export interface Service {
  /** `name:tag`. */
  ref: string;
  name: string;
  tag: string;
  /** Absolute path of image.json. */
  manifestPath: string;
  /** Absolute directory of image.json; relative paths in the manifest resolve from here. */
  dir: string;
  manifest: ServiceManifest;
  /** Effective budget: manifest maxLayers, else the workspace's. */
  maxLayers: number;
  /** Absolute path of the closure file, when the manifest names one. */
  closureFile?: string;
  /** Absolute path of the base image tarball, when the manifest names one. */
  fromImage?: string;
}

export interface Workspace {
  /** Absolute directory holding planner.config.json. */
  root: string;
  configFile: string;
  config: PlannerConfig;
  /** Sorted by ref. */
  services: Service[];
}
