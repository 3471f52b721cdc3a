# Writes version.hpp with the git revision at build time (not only when CMake configures), so
# that `portman version` and portman_build_info name the commit the binary was built from.
# configure_file rewrites the header only when its text changes: no needless rebuilds.
execute_process(COMMAND git rev-parse --short=12 HEAD WORKING_DIRECTORY ${SOURCE_DIR}
                OUTPUT_VARIABLE PORTMAN_REVISION OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT PORTMAN_REVISION)
  set(PORTMAN_REVISION unknown)
endif()
set(PROJECT_VERSION ${VERSION})
configure_file(${SOURCE_DIR}/libportman/version.hpp.in ${OUTPUT} @ONLY)
