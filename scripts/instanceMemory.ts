/**
 * The heap the local host runs with: the one a deployed instance gets. Node sizes V8's old
 * generation from the memory the process may use (half of it on 64-bit, cgroup limits included),
 * so on a Flex Consumption instance of infra/app/api.bicep's `instanceMemoryMB` the limit is
 * 1,024 MiB, while on a developer's 24 GiB machine it would be 4 GiB. The limit shapes memory long
 * before it is reached: V8 lets garbage grow to 4 times the live heap between full collections
 * when the limit is 2 GiB or more, and to 1.3–2 times below that. Without the flag the local host
 * would hold about 100 MiB more garbage than an instance does (docs/benchmarks.md).
 *
 * `npm start` (package.json) and the benchmarks' host pass these flags; a unit test keeps the
 * three in step with the Bicep.
 */
export const instanceMemoryMiB = 2048;

export const instanceHeapFlags: readonly string[] = [`--max-old-space-size=${instanceMemoryMiB / 2}`];
