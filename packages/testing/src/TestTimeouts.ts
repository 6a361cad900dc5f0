/**
 * How long tests and the kit's waits may take, in one place, sized for a
 * busy machine (load ~9 on 2 cores). `bun test`'s default test and hook
 * timeout comes from here (through the preload and `bun run test`), and the
 * kit's condition deadlines stay well below it, so a wait that fails says
 * why instead of bun's generic "timed out".
 */

/** Default timeout of every test and hook (`bun test` and `bun run test` alike). */
export const testMs = 60_000

/** Default deadline of `eventually`, `awaitDelivered` and `LocalServer.waitFor`. */
export const waitMs = 30_000

/** How long a server process may take to print its URL (a first boot on PGlite runs initdb). */
export const serverStartMs = 45_000

/** How long a server process may take to exit after a signal before it is killed. */
export const serverStopMs = 20_000
