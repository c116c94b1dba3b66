# The installed library: `cmake --install` into a scratch prefix, then the example of
# docs/api.md (tests/install/consumer/) built against it with its CMake package and with
# pkg-config, and run (tests/install/consumer.sh).
# A sanitized build installs sanitized archives: its consumer links the sanitizers too.
set(LCRULES_CONSUMER_FLAGS "")
if(LCRULES_SANITIZE)
  set(LCRULES_CONSUMER_FLAGS "-fsanitize=address,undefined")
endif()
add_test(NAME install/consumer
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/consumer.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR}
                 ${CMAKE_CXX_COMPILER} "${LCRULES_CONSUMER_FLAGS}")
set_tests_properties(install/consumer PROPERTIES TIMEOUT 900)
