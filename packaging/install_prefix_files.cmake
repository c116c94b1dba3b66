# Runs at install time (install(SCRIPT), component lcrules), after packaging/package.cmake
# set LCRULES_SERVICE_IN, LCRULES_BINDIR and LCRULES_SYSTEM_RULES.
# CMAKE_INSTALL_PREFIX is the prefix installed to (/usr for the Debian package, which cpack
# installs with DESTDIR set to its staging folder; file(INSTALL) adds DESTDIR).

# lcrules.service runs PREFIX/bin/lcrules.
if(IS_ABSOLUTE "${LCRULES_BINDIR}")
  set(LCRULES_INSTALL_BINDIR "${LCRULES_BINDIR}")
else()
  set(LCRULES_INSTALL_BINDIR "${CMAKE_INSTALL_PREFIX}/${LCRULES_BINDIR}")
endif()
# Written straight into the destination: a shared file in the build folder could be
# rewritten by another install running at the same time for another prefix.
set(LCRULES_UNIT_DIR "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}/lib/systemd/user")
message(STATUS "Installing: ${LCRULES_UNIT_DIR}/lcrules.service")
configure_file("${LCRULES_SERVICE_IN}" "${LCRULES_UNIT_DIR}/lcrules.service" @ONLY)
list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${LCRULES_UNIT_DIR}/lcrules.service")

# /etc/lcrules/, the system rules folder lcrules reads whatever its prefix: owned by the
# package, with a commented local.rules (a conffile). Only for the prefix /usr, and a
# local.rules already there (edited by its admin) is kept.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  if(NOT EXISTS "$ENV{DESTDIR}/etc/lcrules/local.rules")
    file(INSTALL "${LCRULES_SYSTEM_RULES}" DESTINATION /etc/lcrules)
  else()
    message(STATUS "Kept: $ENV{DESTDIR}/etc/lcrules/local.rules")
  endif()
endif()
