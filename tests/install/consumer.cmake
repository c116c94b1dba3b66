# The installed library: `cmake --install` into a scratch prefix, then the example of
# docs/api.md (tests/install/consumer/) built against it with its CMake package and with
# pkg-config, and run (tests/install/consumer.sh).
add_test(NAME install/consumer
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/consumer.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR}
                 ${CMAKE_CXX_COMPILER})
set_tests_properties(install/consumer PROPERTIES TIMEOUT 900)
