declare module "*.sql" {
  const text: string
  export default text
}

declare module "s3rver" {
  interface S3rverOptions {
    readonly port?: number
    readonly address?: string
    readonly silent?: boolean
    readonly directory: string
    readonly configureBuckets?: ReadonlyArray<{ readonly name: string; readonly configs: ReadonlyArray<string> }>
  }
  export default class S3rver {
    constructor(options: S3rverOptions)
    run(): Promise<unknown>
    close(): Promise<void>
  }
}

declare module "@electric-sql/pglite/pglite.wasm" {
  const path: string
  export default path
}
declare module "@electric-sql/pglite/initdb.wasm" {
  const path: string
  export default path
}
declare module "@electric-sql/pglite/pglite.data" {
  const path: string
  export default path
}
