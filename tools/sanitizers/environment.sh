# Sanitizer run-time options for the unit tests and the fuzz targets; sourced by
# tools/sanitize.sh and tools/fuzz-smoke.sh.
sanitizers_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# detect_leaks: LeakSanitizer checks every test process at exit.
export ASAN_OPTIONS=detect_leaks=1
# halt_on_error: the first undefined behaviour fails the test instead of being printed only.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:suppressions=$sanitizers_dir/ubsan.supp
