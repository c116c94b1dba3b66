# Writes OUTPUT, a header defining LCRULES_COMMIT: the commit SOURCE_DIR is checked out at,
# or "unknown" when it is not the top of a git checkout (a release tarball, say, even one
# unpacked inside another repository) or git is missing. Run at every build (cmake -P); the
# file is rewritten only when the commit changed, so an unchanged commit recompiles nothing.
set(commit unknown)
if(GIT_EXECUTABLE)
  execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${SOURCE_DIR}" rev-parse --show-toplevel HEAD
                  OUTPUT_VARIABLE out RESULT_VARIABLE status ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(status EQUAL 0)
    string(REPLACE "\n" ";" lines "${out}")
    list(GET lines 0 top)
    list(GET lines 1 head)
    file(REAL_PATH "${top}" top)
    file(REAL_PATH "${SOURCE_DIR}" source)
    if(top STREQUAL source AND head MATCHES "^[0-9a-f]+$")
      set(commit "${head}")
    endif()
  endif()
endif()
set(content "// Generated at build time by engine/api/commit.cmake.\n#pragma once\n#define LCRULES_COMMIT \"${commit}\"\n")
set(old "")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" old)
endif()
if(NOT old STREQUAL content)
  file(WRITE "${OUTPUT}" "${content}")
endif()
