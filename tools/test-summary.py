#!/usr/bin/env python3
"""Prints one closing line with the number of test cases that passed and failed.

meson counts test programs; this counts the cases inside them from meson's test log:
GoogleTest's "[  PASSED  ] N tests" / "[  FAILED  ] N tests" lines and unittest's
"Ran N tests" with its "FAILED (failures=F, errors=E)" line. A program whose output has
neither counts as one case.
"""

import json
import re
import sys


def count_cases(entry):
    out = entry.get("stdout", "") or ""
    gtest_passed = re.search(r"^\[  PASSED  \] (\d+) test", out, re.M)
    gtest_failed = re.search(r"^\[  FAILED  \] (\d+) test", out, re.M)
    if gtest_passed or gtest_failed:
        return (int(gtest_passed.group(1)) if gtest_passed else 0,
                int(gtest_failed.group(1)) if gtest_failed else 0)
    ran = re.search(r"^Ran (\d+) tests?", out, re.M)
    if ran:
        total = int(ran.group(1))
        failed = sum(int(n) for n in re.findall(r"(?:failures|errors)=(\d+)", out))
        return total - failed, failed
    return (1, 0) if entry.get("result") in ("OK", "EXPECTEDFAIL") else (0, 1)


def main():
    passed = failed = 0
    with open(sys.argv[1], encoding="utf-8") as log:
        for line in log:
            entry = json.loads(line)
            if entry.get("result") == "SKIP":
                continue
            case_passed, case_failed = count_cases(entry)
            if entry.get("result") not in ("OK", "EXPECTEDFAIL") and case_failed == 0:
                case_failed = 1
            passed += case_passed
            failed += case_failed
    print(f"{passed} passed, {failed} failed")


if __name__ == "__main__":
    main()
