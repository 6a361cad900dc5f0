/** `bun run bench compliance`: the compliance plugin's hook latencies (see plugins/compliance/bench/hooks.ts). */
export { run } from "../../plugins/compliance/bench/hooks.ts"
