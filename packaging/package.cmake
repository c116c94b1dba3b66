# What `cmake --install` installs and `cpack -G DEB` packages (docs/packaging.md). Two
# components, one Debian package each:
# - lcrules (package lcrules): the program, the kubectl plugin links, the shipped rules and
#   their tests, man pages, bash/zsh/fish completion, the systemd user units, /etc/lcrules/;
# - dev (package lcrules-dev): the library, its headers, CMake package and lcrules.pc
#   (engine/api/install.cmake).
# Included from the top-level CMakeLists.txt once the targets are defined.
set(LCRULES_PACKAGING_DIR ${PROJECT_SOURCE_DIR}/packaging)

install(TARGETS lcrules RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT lcrules)
# The installed lcrules finds its shipped rules in ../share/lcrules beside its bin/.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/rules/ DESTINATION ${CMAKE_INSTALL_DATADIR}/lcrules COMPONENT lcrules)

# kubectl's plugin `kubectl lcrules` (lcrules acts as `lcrules eval` under this name) and
# kubectl's completion of it (kubectl runs kubectl_complete-lcrules): links to lcrules.
file(MAKE_DIRECTORY ${PROJECT_BINARY_DIR}/links)
foreach(link kubectl-lcrules kubectl_complete-lcrules)
  file(CREATE_LINK lcrules ${PROJECT_BINARY_DIR}/links/${link} SYMBOLIC)
  install(FILES ${PROJECT_BINARY_DIR}/links/${link} DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT lcrules)
endforeach()

# Completion scripts, from `lcrules completion SHELL`.
set(LCRULES_COMPLETION_DIR ${PROJECT_BINARY_DIR}/completion)
add_custom_command(
  OUTPUT ${LCRULES_COMPLETION_DIR}/lcrules ${LCRULES_COMPLETION_DIR}/_lcrules ${LCRULES_COMPLETION_DIR}/lcrules.fish
  COMMAND ${CMAKE_COMMAND} -E make_directory ${LCRULES_COMPLETION_DIR}
  COMMAND sh -c "\"$1\" completion bash >\"$2/lcrules\" && \"$1\" completion zsh >\"$2/_lcrules\" && \"$1\" completion fish >\"$2/lcrules.fish\""
          sh $<TARGET_FILE:lcrules> ${LCRULES_COMPLETION_DIR}
  DEPENDS lcrules
  COMMENT "Writing the bash, zsh and fish completion scripts"
  VERBATIM)
add_custom_target(completion-scripts ALL
  DEPENDS ${LCRULES_COMPLETION_DIR}/lcrules ${LCRULES_COMPLETION_DIR}/_lcrules ${LCRULES_COMPLETION_DIR}/lcrules.fish)
install(FILES ${LCRULES_COMPLETION_DIR}/lcrules DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        COMPONENT lcrules)
install(FILES ${LCRULES_COMPLETION_DIR}/_lcrules DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions
        COMPONENT lcrules)
install(FILES ${LCRULES_COMPLETION_DIR}/lcrules.fish DESTINATION ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d
        COMPONENT lcrules)

# Man pages: the generated parts from the program (`lcrules __man PAGE`: synopsis and
# options, from the CLI11 definitions) and the text from docs/, through pandoc.
if(LCRULES_BUILD_MANPAGES)
  find_program(LCRULES_PANDOC pandoc)
  if(NOT LCRULES_PANDOC)
    message(FATAL_ERROR "pandoc not found: install it (apt-get install pandoc), or configure with "
                        "-DLCRULES_BUILD_MANPAGES=OFF to build without man pages")
  endif()
  set(LCRULES_MAN_DIR ${PROJECT_BINARY_DIR}/man)
  file(GLOB LCRULES_DOCS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
  add_custom_command(
    OUTPUT ${LCRULES_MAN_DIR}/pages.stamp
    COMMAND bash ${LCRULES_PACKAGING_DIR}/build_manpages.sh $<TARGET_FILE:lcrules> ${PROJECT_SOURCE_DIR}/docs
            ${LCRULES_PANDOC} ${LCRULES_MAN_DIR} ${PROJECT_VERSION}
    DEPENDS lcrules ${LCRULES_PACKAGING_DIR}/build_manpages.sh ${LCRULES_PACKAGING_DIR}/man_tables.lua ${LCRULES_DOCS}
    COMMENT "Writing the man pages"
    VERBATIM)
  add_custom_target(manpages ALL DEPENDS ${LCRULES_MAN_DIR}/pages.stamp)
  install(DIRECTORY ${LCRULES_MAN_DIR}/man1 ${LCRULES_MAN_DIR}/man5 DESTINATION ${CMAKE_INSTALL_MANDIR}
          COMPONENT lcrules FILES_MATCHING PATTERN "*.gz")
endif()

# The systemd user units for `lcrules serve` (socket activation), and the system rules
# folder /etc/lcrules/: their content or place depends on the prefix installed to
# (ExecStart names PREFIX/bin/lcrules; /etc/lcrules/ is installed only for the prefix /usr,
# as lcrules reads /etc/lcrules whatever its prefix), known only at install time.
install(FILES ${PROJECT_SOURCE_DIR}/engine/serve/systemd/lcrules.socket DESTINATION lib/systemd/user
        COMPONENT lcrules)
install(CODE "set(LCRULES_SERVICE_IN \"${PROJECT_SOURCE_DIR}/engine/serve/systemd/lcrules.service\")
set(LCRULES_BINDIR \"${CMAKE_INSTALL_BINDIR}\")
set(LCRULES_SYSTEM_RULES \"${LCRULES_PACKAGING_DIR}/local.rules\")"
        COMPONENT lcrules)
install(SCRIPT ${LCRULES_PACKAGING_DIR}/install_prefix_files.cmake COMPONENT lcrules)

# /usr/share/doc/PACKAGE: copyright and the Debian changelog, for each package.
file(STRINGS ${LCRULES_PACKAGING_DIR}/changelog LCRULES_CHANGELOG_HEAD LIMIT_COUNT 1)
if(NOT LCRULES_CHANGELOG_HEAD MATCHES "^lcrules \\(${PROJECT_VERSION}(-[0-9]+)?\\) ")
  message(FATAL_ERROR "packaging/changelog: its first entry is not for version ${PROJECT_VERSION} "
                      "(project() in CMakeLists.txt): add an entry for it")
endif()
set(LCRULES_DEBIAN_RELEASE "${CMAKE_MATCH_1}")
add_custom_command(
  OUTPUT ${PROJECT_BINARY_DIR}/packaging/changelog.Debian.gz
  COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/packaging
  COMMAND sh -c "gzip -9n <\"$1\" >\"$2\"" sh ${LCRULES_PACKAGING_DIR}/changelog
          ${PROJECT_BINARY_DIR}/packaging/changelog.Debian.gz
  DEPENDS ${LCRULES_PACKAGING_DIR}/changelog
  VERBATIM)
add_custom_target(package-changelog ALL DEPENDS ${PROJECT_BINARY_DIR}/packaging/changelog.Debian.gz)
foreach(component lcrules dev)
  set(package lcrules)
  if(component STREQUAL dev)
    set(package lcrules-dev)
  endif()
  install(FILES ${LCRULES_PACKAGING_DIR}/copyright ${PROJECT_BINARY_DIR}/packaging/changelog.Debian.gz
          DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${package} COMPONENT ${component})
endforeach()

# The library, its public headers, its CMake package and pkg-config file.
include(${PROJECT_SOURCE_DIR}/engine/api/install.cmake OPTIONAL)

# cpack -G DEB: lcrules_VERSION_ARCH.deb and lcrules-dev_VERSION_ARCH.deb.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME lcrules)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "lcrules maintainers <maintainers@users.noreply.r-seed-1e81e182.example>")
# No CPACK_PACKAGE_DESCRIPTION_SUMMARY: each package's synopsis is the first line of its
# description below (CPack would put a common summary before it).
# Install as `cmake --install` would to /usr (DESTDIR is the staging folder), so that the
# install-time files above see the real prefix.
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL lcrules dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
if(LCRULES_DEBIAN_RELEASE)
  string(SUBSTRING "${LCRULES_DEBIAN_RELEASE}" 1 -1 CPACK_DEBIAN_PACKAGE_RELEASE)
endif()
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_LCRULES_PACKAGE_NAME lcrules)
set(CPACK_DEBIAN_LCRULES_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_LCRULES_PACKAGE_SUGGESTS "kubernetes-client, bash-completion")
set(CPACK_DEBIAN_LCRULES_PACKAGE_CONTROL_EXTRA ${LCRULES_PACKAGING_DIR}/conffiles)
set(CPACK_COMPONENT_LCRULES_DESCRIPTION
    "says whether a kube-context's cluster is local and how images get in
lcrules answers the question every Kubernetes development tool asks
before it builds an image: is the cluster behind this kube-context
local, which product is it (kind, k3d, minikube, Docker Desktop, ...),
and how do images get into it (load them, or push them to a
registry)? The answers come from declarative rule files, shipped in
/usr/share/lcrules and extended in /etc/lcrules and ~/.config/lcrules,
and lcrules says why it decided.
.
The package holds the lcrules command, its kubectl plugin (kubectl
lcrules), man pages, bash, zsh and fish completion, and systemd user
units for lcrules serve, a local service answering over a Unix socket.")
set(CPACK_DEBIAN_DEV_PACKAGE_NAME lcrules-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
    "libboost-regex-dev, libyaml-cpp-dev, libre2-dev, nlohmann-json3-dev")
set(CPACK_COMPONENT_DEV_DESCRIPTION
    "lcrules rules engine, static library and headers
The engine behind the lcrules command (see the lcrules package) as a
static C++20 library: load a rule set, evaluate kube-contexts against
it, list its rules and the facts a context offers. With a CMake
package (find_package(lcrules CONFIG), target lcrules::engine) and a
pkg-config file (lcrules.pc).")
include(CPack)
