# Installs the engine library for programs that embed it (docs/api.md): the static archives
# (lcrules_engine and the lcrules_grammar it links), the public headers (include/lcrules/),
# a CMake package (find_package(lcrules CONFIG) gives lcrules::engine) and a pkg-config file
# (lcrules.pc). Included from the top-level CMakeLists.txt after the targets are defined.
include(CMakePackageConfigHelpers)
find_package(Threads REQUIRED)

set(LCRULES_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/lcrules)

# What the installed targets carry. lcrules_engine is a static library, so its private link
# dependencies are part of its exported interface ($<LINK_ONLY:...>). Among them:
# - lcrules_grammar, exported beside it as lcrules::grammar: an archive to link and nothing
#   more, its include folder (the source tree) and PEGTL (header-only) are for the build tree;
# - spdlog and fmt, used header-only: nothing to link, so a consumer needs neither;
# - lcrules_warnings, the project's warning flags: never a consumer's business.
# Boost.Regex (static), yaml-cpp's and RE2's static archives (by path) and nlohmann_json
# stay; the threads library is added (spdlog's, the command executor's and RE2's locks).
set_target_properties(lcrules_engine PROPERTIES EXPORT_NAME engine)
set_target_properties(lcrules_grammar PROPERTIES EXPORT_NAME grammar)

function(lcrules_build_only_link_items target)
  get_target_property(items ${target} INTERFACE_LINK_LIBRARIES)
  set(result "")
  foreach(item IN LISTS items)
    if(item MATCHES "^\\$<LINK_ONLY:(lcrules_warnings|spdlog::spdlog_header_only|fmt::fmt-header-only)>$"
       OR item MATCHES "^(lcrules_warnings|spdlog::spdlog_header_only|fmt::fmt-header-only|taocpp::pegtl)$")
      list(APPEND result "$<BUILD_INTERFACE:${item}>")
    else()
      list(APPEND result "${item}")
    endif()
  endforeach()
  set_property(TARGET ${target} PROPERTY INTERFACE_LINK_LIBRARIES "${result}")
endfunction()
lcrules_build_only_link_items(lcrules_engine)
lcrules_build_only_link_items(lcrules_grammar)
set_property(TARGET lcrules_engine APPEND PROPERTY INTERFACE_LINK_LIBRARIES
             "$<INSTALL_INTERFACE:$<LINK_ONLY:Threads::Threads>>")

get_target_property(lcrules_grammar_includes lcrules_grammar INTERFACE_INCLUDE_DIRECTORIES)
set(lcrules_grammar_build_includes "")
foreach(dir IN LISTS lcrules_grammar_includes)
  list(APPEND lcrules_grammar_build_includes "$<BUILD_INTERFACE:${dir}>")
endforeach()
set_property(TARGET lcrules_grammar PROPERTY INTERFACE_INCLUDE_DIRECTORIES "${lcrules_grammar_build_includes}")

install(TARGETS lcrules_engine lcrules_grammar
        EXPORT lcrules-targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/engine/include/lcrules
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        COMPONENT dev
        FILES_MATCHING PATTERN "*.hpp")
install(EXPORT lcrules-targets
        NAMESPACE lcrules::
        DESTINATION ${LCRULES_INSTALL_CMAKEDIR}
        COMPONENT dev)

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/lcrules-config.cmake.in
                              ${PROJECT_BINARY_DIR}/lcrules-config.cmake
                              INSTALL_DESTINATION ${LCRULES_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/lcrules-config-version.cmake
                                 VERSION ${PROJECT_VERSION}
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/lcrules-config.cmake ${PROJECT_BINARY_DIR}/lcrules-config-version.cmake
        DESTINATION ${LCRULES_INSTALL_CMAKEDIR}
        COMPONENT dev)

# lcrules.pc: its prefix is found from where the file is (${pcfiledir}), so the tree stays
# right wherever `cmake --install --prefix` puts it. Boost.Regex, yaml-cpp and RE2 are named
# by their static archives, as the engine is built with them.
get_target_property(LCRULES_PC_BOOST_REGEX Boost::regex IMPORTED_LOCATION_RELEASE)
if(NOT LCRULES_PC_BOOST_REGEX)
  get_target_property(LCRULES_PC_BOOST_REGEX Boost::regex LOCATION)
endif()
set(LCRULES_PC_YAML_CPP ${LCRULES_YAML_CPP_STATIC})
set(LCRULES_PC_RE2 ${LCRULES_RE2_STATIC})
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(LCRULES_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(LCRULES_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  file(RELATIVE_PATH lcrules_pc_up /p/${CMAKE_INSTALL_LIBDIR}/pkgconfig /p)
  string(REGEX REPLACE "/$" "" lcrules_pc_up "${lcrules_pc_up}")
  set(LCRULES_PC_PREFIX "\${pcfiledir}/${lcrules_pc_up}")
  set(LCRULES_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(LCRULES_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(LCRULES_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/lcrules.pc.in ${PROJECT_BINARY_DIR}/lcrules.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/lcrules.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)
