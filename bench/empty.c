/* empty.so: a shared object with nothing in it. Preloaded, it shows what any
 * LD_PRELOAD costs a process (the dynamic loader's floor), which bench/run
 * compares libnxretry.so with. */
typedef int bench_empty_translation_unit;
